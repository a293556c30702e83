import assert from "node:assert/strict";
import path from "node:path";
import { test } from "node:test";
import type { LoadedRuleset } from "../../../server/rules/load-ruleset.ts";
import { RuleRegistry } from "../../../server/rules/rule-registry.ts";
import { createRulesetReloader } from "../../../server/rules/ruleset-reloader.ts";
import { createLogSink } from "../../helpers/log-sink.ts";
import { REPO, TEMPLATES, TEST_CONTEXT } from "../../helpers/rules.ts";

test("a load that uses an unset secret succeeds and logs a warning naming the file, line and variable", async () => {
  const logs = createLogSink("info");
  const registry = new RuleRegistry<LoadedRuleset>();
  const options = { rulesDir: path.join(REPO, "rules"), templatesDir: TEMPLATES, context: TEST_CONTEXT };
  const reloader = createRulesetReloader(registry, { ...options, secretNames: new Set<string>() }, logs.log);
  const outcome = await reloader.reload();
  assert.deepEqual(outcome.errors, []);
  assert.ok(registry.current);
  const warning = logs.lines().find((line) => line.msg === "the ruleset uses secrets that are not set");
  assert.equal(warning?.level, "warn");
  assert.match(
    String((warning?.warnings as string[])[0]),
    /^rules\/crm\.json:\d+:\d+ RULE_SECRET_UNSET .*SECRET_CRM_TOKEN/,
  );

  const quiet = createLogSink("info");
  const withSecret = new Set(["CRM_TOKEN"]);
  await createRulesetReloader(
    new RuleRegistry<LoadedRuleset>(),
    { ...options, secretNames: withSecret },
    quiet.log,
  ).reload();
  assert.ok(!quiet.lines().some((line) => line.msg === "the ruleset uses secrets that are not set"));
});
