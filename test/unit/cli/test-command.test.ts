import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { test } from "node:test";
import { runCommand } from "../../helpers/cli.ts";
import { REPO, scratchRuleset } from "../../helpers/rules.ts";

const lyingRules = {
  rules: [
    {
      id: "crm.long-calls",
      on: "Hangup",
      when: { ">": [{ var: "Duration" }, 60] },
      actions: [
        { type: "forward", url: "https://crm.example.com/calls?caller=<<caller_e164>>", body: "json" },
      ],
      tests: [
        {
          name: "a long call goes to the CRM",
          event: { Event: "Hangup", From: "919876543210", Duration: "95" },
          expect: { match: true, forward: [{ url: "https://crm.example.com/calls?caller=%2B919876543210" }] },
        },
        {
          name: "the CRM gets the caller (this test lies about the URL)",
          event: { Event: "Hangup", From: "919876543210", Duration: "95" },
          expect: { forward: [{ url: "https://crm.example.com/calls?from=919876543210" }] },
        },
      ],
    },
    {
      id: "answer.hello",
      path: "/answer/hello",
      actions: [
        { type: "respond", xml: "<Response>\n  <Speak>Hello <<From>></Speak>\n  <Hangup/>\n</Response>" },
      ],
      tests: [
        {
          name: "hello says the caller's number",
          path: "/answer/hello",
          event: { Event: "StartApp", From: "919876543210" },
          expect: { xml: "<Response>\n  <Speak>Hi 919876543210</Speak>\n  <Hangup/>\n</Response>" },
        },
      ],
    },
  ],
};

test("the example rules' tests all pass: N passed, 0 failed, exit 0", async () => {
  const run = await runCommand(["test"], { cwd: REPO });
  assert.equal(run.code, 0, run.stdout);
  assert.match(run.stdout, /^(\d+) passed, 0 failed$/m);
});

test("test catches a lying test: its name, file and line, and a diff of expected and actual", async () => {
  const scratch = await scratchRuleset({ rules: { "crm.json": lyingRules } });
  const run = await runCommand(["test"], { cwd: scratch.dir });
  assert.equal(run.code, 1);
  assert.match(run.stdout, /^1 passed, 2 failed$/m);
  const forward = run.stdout.split("\n").findIndex((line) => line.includes("this test lies about the URL"));
  assert.match(run.stdout.split("\n")[forward] ?? "", /^FAIL rules\/crm\.json:\d+ crm\.long-calls › /);
  const block = run.stdout
    .split("\n")
    .slice(forward, forward + 12)
    .join("\n");
  assert.match(block, /forward: the rendered forward actions differ/);
  assert.match(block, /^ +\+ +url: 'https:\/\/crm\.example\.com\/calls\?caller=%2B919876543210'$/m);
  assert.match(block, /^ +- +url: 'https:\/\/crm\.example\.com\/calls\?from=919876543210'$/m);
  // the XML is compared line by line, unquoted
  assert.match(run.stdout, /^ +\+ +<Speak>Hello 919876543210<\/Speak>$/m);
  assert.match(run.stdout, /^ +- +<Speak>Hi 919876543210<\/Speak>$/m);
  assert.doesNotMatch(run.stdout, /^ +[+-] +<Hangup\/>$/m, "unchanged lines are not marked");
});

test("--filter runs only the tests whose name or rule id contains the text", async () => {
  const scratch = await scratchRuleset({ rules: { "crm.json": lyingRules } });
  const run = await runCommand(["test", "--filter", "LONG call"], { cwd: scratch.dir });
  assert.equal(run.code, 0, run.stdout);
  assert.match(run.stdout, /^1 passed, 0 failed$/m);
  const byRule = await runCommand(["test", "--filter", "answer.hello"], { cwd: scratch.dir });
  assert.match(byRule.stdout, /^0 passed, 1 failed$/m);
});

test("--update rewrites a failing xml expectation from the actual reply, and nothing else", async () => {
  const scratch = await scratchRuleset({ rules: { "crm.json": lyingRules } });
  const file = path.join(scratch.rulesDir, "crm.json");
  const before = await readFile(file, "utf8");
  const run = await runCommand(["test", "--update"], { cwd: scratch.dir });
  assert.match(run.stderr, /updated the xml expectation of "hello says the caller's number"/);
  assert.match(run.stdout, /^2 passed, 1 failed$/m, "the lying forward test still fails");
  const after = await readFile(file, "utf8");
  const data = JSON.parse(after) as { rules: Array<{ tests: Array<{ expect: { xml?: string } }> }> };
  assert.equal(
    data.rules[1]?.tests[0]?.expect.xml,
    "<Response>\n  <Speak>Hello 919876543210</Speak>\n  <Hangup/>\n</Response>",
  );
  const changed = before.split("\n").filter((line, i) => after.split("\n")[i] !== line);
  assert.equal(changed.length, 1, "only the xml line changed");
});

test("rules that do not load run no test and say so (exit 1)", async () => {
  const scratch = await scratchRuleset({ rules: { "broken.json": { rules: [{ id: "x" }] } } });
  const run = await runCommand(["test"], { cwd: scratch.dir });
  assert.equal(run.code, 1);
  assert.match(run.stdout, /^rules\/broken\.json:\d+:\d+ RULE_SCHEMA /m);
  assert.match(run.stdout, /no test was run/);
});
