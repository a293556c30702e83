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
  const isWarning = (line: { msg?: unknown }): boolean =>
    /warnings? about the rule files/.test(String(line.msg));
  const warning = logs.lines().find(isWarning);
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
  assert.ok(!quiet.lines().some(isWarning));
});
