import assert from "node:assert/strict";
import { test } from "node:test";
import { scratchRuleset } from "../helpers/rules.ts";
import { TEST_ADMIN_TOKEN, startTestService } from "../helpers/service.ts";

const rule = (id: string): unknown => ({
  rules: [{ id, actions: [{ type: "forward", url: "https://x.example.com/" }] }],
});
const disk = await scratchRuleset({ rules: { "r.json": rule("first") } });
const service = await startTestService(import.meta.url, {
  RULES_DIR: disk.rulesDir,
  TEMPLATES_DIR: disk.templatesDir,
  RULES_WATCH: "true",
});

const ruleIds = async (): Promise<string[]> => {
  const response = await fetch(`${service.url}/admin/rules`, {
    headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
  });
  return ((await response.json()) as { items: Array<{ id: string }> }).items.map((item) => item.id);
};

/** Polls until the served rule ids equal `expected` (bounded; the reload itself is not timed). */
async function servedEventually(expected: string[]): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (JSON.stringify(await ruleIds()) !== JSON.stringify(expected)) {
    assert.ok(Date.now() < deadline, `the watcher did not reload to ${JSON.stringify(expected)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test("RULES_WATCH=true reloads when a rule file changes, with the same validation", async () => {
  assert.deepEqual(await ruleIds(), ["first"]);
  await disk.write("rules/r.json", rule("second"));
  await servedEventually(["second"]);
  await disk.write("rules/r.json", "{ not json");
  await disk.write("rules/more/extra.json", rule("third"));
  // the broken file is refused (the log says so) and the last good ruleset keeps serving
  const deadline = Date.now() + 10_000;
  while (
    !service.logs.lines().some((line) => line.msg === "ruleset refused; the previous one keeps serving")
  ) {
    assert.ok(Date.now() < deadline, "the watcher did not try the broken file");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.deepEqual(await ruleIds(), ["second"]);
  // fixing it loads everything, in path order
  await disk.write("rules/r.json", rule("second"));
  await servedEventually(["third", "second"]);
});
