import assert from "node:assert/strict";
import { cp } from "node:fs/promises";
import path from "node:path";
import { test } from "node:test";
import { runBin, runCommand } from "../../helpers/cli.ts";
import { REPO, RULE_FIXTURES, scratchRuleset } from "../../helpers/rules.ts";

test("check passes the example rules and templates of this repository (exit 0), with no Redis", async () => {
  const run = await runCommand(["check"], { cwd: REPO });
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.match(run.stdout, /^ok: \d+ rules, \d+ tests passed(, 1 warning)?$/m);
});

test("check names each broken file with file:line:column CODE and exits 1", async () => {
  const scratch = await scratchRuleset({
    ruleFiles: [
      path.join(RULE_FIXTURES, "invalid", "RULE_SCHEMA.json"),
      path.join(RULE_FIXTURES, "invalid", "RULE_JSON_SYNTAX.json"),
    ],
  });
  const run = await runCommand(["check", "rules"], { cwd: scratch.dir });
  assert.equal(run.code, 1);
  const lines = run.stdout.trim().split("\n");
  assert.deepEqual(
    lines.slice(0, 2).map((line) => line.split(" ").slice(0, 2).join(" ")),
    ["rules/RULE_JSON_SYNTAX.json:3:29 RULE_JSON_SYNTAX", "rules/RULE_SCHEMA.json:6:7 RULE_SCHEMA"],
  );
  assert.match(lines[1] ?? "", /did you mean "actions"\?/);
  assert.equal(lines.at(-1), "2 problems; nothing would be loaded");
});

test("check --json gives the problems as data", async () => {
  const scratch = await scratchRuleset({
    ruleFiles: [path.join(RULE_FIXTURES, "invalid", "RULE_SCHEMA.json")],
  });
  const run = await runCommand(["check", "--json"], { cwd: scratch.dir });
  assert.equal(run.code, 1);
  const result = JSON.parse(run.stdout) as { ok: boolean; problems: Array<Record<string, unknown>> };
  assert.equal(result.ok, false);
  assert.deepEqual(
    result.problems.map(({ file, line, code }) => ({ file, line, code })),
    [{ file: "rules/RULE_SCHEMA.json", line: 6, code: "RULE_SCHEMA" }],
  );
});

test("check uses the same PUBLIC_URL as a server would: a test that expects it passes only with it", async () => {
  const scratch = await scratchRuleset({
    rules: {
      "url.json": {
        rules: [
          {
            id: "echo",
            path: "/answer/echo",
            actions: [
              {
                type: "respond",
                xml: "<Response><Redirect><<meta.public_url>>/answer/x</Redirect></Response>",
              },
            ],
            tests: [
              {
                path: "/answer/echo",
                event: { Event: "StartApp" },
                expect: { xml_contains: "https://sb.example.org/answer/x" },
              },
            ],
          },
        ],
      },
    },
  });
  assert.equal((await runCommand(["check"], { cwd: scratch.dir })).code, 1);
  const run = await runCommand(["check"], {
    cwd: scratch.dir,
    env: { PUBLIC_URL: "https://sb.example.org" },
  });
  assert.equal(run.code, 0, run.stdout);
});

test("a rules repository outside this checkout gates a merge with the real bin: check and test, no server", async () => {
  const scratch = await scratchRuleset();
  await cp(path.join(REPO, "rules"), scratch.rulesDir, { recursive: true });
  const check = await runBin(["check"], { cwd: scratch.dir });
  assert.equal(check.code, 0, check.stdout + check.stderr);
  assert.match(check.stdout, /^ok: /m);
  const tested = await runBin(["test"], { cwd: scratch.dir });
  assert.equal(tested.code, 0, tested.stdout + tested.stderr);
  assert.match(tested.stdout, /^\d+ passed, 0 failed$/m);
  await scratch.write("rules/broken.json", '{\n  "rules": [\n    { "id": "x", "on": "Hangup" }\n  ]\n}\n');
  const broken = await runBin(["check"], { cwd: scratch.dir });
  assert.equal(broken.code, 1);
  assert.match(broken.stdout, /^rules\/broken\.json:3:\d+ RULE_SCHEMA /m);
});

test("a missing rules folder is a usage error (exit 2) that says what to give", async () => {
  const run = await runCommand(["check", "no-such-folder"], { cwd: REPO });
  assert.equal(run.code, 2);
  assert.match(run.stderr, /no rules folder at .*no-such-folder/);
});

test("an unset secret is a warning for check (exit 0), an error for check --strict (exit 1), fine once set", async () => {
  const run = await runCommand(["check"], { cwd: REPO });
  assert.equal(run.code, 0);
  assert.match(
    run.stdout,
    /^rules\/crm\.json:\d+:\d+ RULE_SECRET_UNSET \(warning\) secrets\.CRM_TOKEN is used/m,
  );
  const strict = await runCommand(["check", "--strict"], { cwd: REPO });
  assert.equal(strict.code, 1);
  assert.match(strict.stdout, /^rules\/crm\.json:\d+:\d+ RULE_SECRET_UNSET secrets\.CRM_TOKEN/m);
  assert.match(strict.stdout, /a server would load this, with warnings/);
  const set = await runCommand(["check", "--strict"], { cwd: REPO, env: { SECRET_CRM_TOKEN: "t0ken" } });
  assert.equal(set.code, 0, set.stdout);
  assert.doesNotMatch(set.stdout, /RULE_SECRET_UNSET/);
});

test("an unknown event name fails check with the nearest known name", async () => {
  const scratch = await scratchRuleset({
    rules: {
      "typo.json": {
        rules: [{ id: "t", on: "Hangups", actions: [{ type: "forward", url: "https://x.example.com/" }] }],
      },
    },
  });
  const run = await runCommand(["check"], { cwd: scratch.dir });
  assert.equal(run.code, 1);
  assert.match(
    run.stdout,
    /^rules\/typo\.json:\d+:\d+ RULE_UNKNOWN_EVENT at \/rules\/0\/on: unknown event "Hangups"; did you mean "Hangup"\?/m,
  );
});
