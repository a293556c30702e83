import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { loadRuleset } from "../../../server/rules/load-ruleset.ts";
import { formatProblem } from "../../../server/rules/rule-problems.ts";
import { REPO, TEMPLATES, TEST_CONTEXT, scratchRuleset } from "../../helpers/rules.ts";

// The shipped examples are what a new user edits first: each file must stand alone, and nothing in them
// may send every event to a host that does not exist.
const EXAMPLES = readdirSync(path.join(REPO, "rules")).filter((name) => name.endsWith(".json"));

for (const name of EXAMPLES) {
  test(`rules/${name} loads and passes its tests on its own, without the other example files`, async () => {
    const scratch = await scratchRuleset({ ruleFiles: [path.join(REPO, "rules", name)] });
    const result = await scratch.load();
    assert.deepEqual(result.problems.map(formatProblem), []);
    assert.ok(result.tests.length > 0 && result.tests.every((t) => t.passed));
  });
}

test("no example forwards every event, and none asks for more retries than the default", async () => {
  const result = await loadRuleset({
    rulesDir: path.join(REPO, "rules"),
    templatesDir: TEMPLATES,
    context: TEST_CONTEXT,
  });
  for (const rule of result.loaded?.ruleset.rules ?? []) {
    const forwards = rule.actions.filter((action) => action.type === "forward");
    if (forwards.length === 0) continue;
    assert.ok(
      !rule.on.includes("*") || rule.paths.length > 0 || rule.when !== true,
      `${rule.id} forwards every event`,
    );
  }
  for (const name of EXAMPLES) {
    const text = readFileSync(path.join(REPO, "rules", name), "utf8");
    for (const found of text.matchAll(/"attempts":\s*(\d+)/g))
      assert.ok(Number(found[1]) <= 4, `${name}: ${found[0]}`);
  }
});

test("the IVR has a rule for every /answer URL its replies hand out (Gather, Dial, Record actions, Redirect)", async () => {
  const result = await loadRuleset({
    rulesDir: path.join(REPO, "rules"),
    templatesDir: TEMPLATES,
    context: TEST_CONTEXT,
  });
  const rules = result.loaded?.ruleset.rules ?? [];
  const handedOut = new Set<string>();
  for (const file of readdirSync(path.join(TEMPLATES, "ivr"))) {
    const xml = readFileSync(path.join(TEMPLATES, "ivr", file), "utf8");
    for (const found of xml.matchAll(/<< meta\.public_url >>(\/answer\/[^"?<\s]*)/g))
      handedOut.add(found[1] ?? "");
  }
  assert.ok(handedOut.has("/answer/support/sales-result"), "the Dial action is among them");
  for (const url of handedOut) {
    const answered = rules.some(
      (rule) => rule.matchPath?.(url) && rule.actions.some((a) => a.type === "respond"),
    );
    assert.ok(answered, `no rule answers ${url}: the caller would hear templates/default.xml`);
  }
});
