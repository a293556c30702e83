import assert from "node:assert/strict";
import { test } from "node:test";
import { describeFailure, runRuleTests } from "../../../server/rules/run-rule-tests.ts";
import type { RuleTest } from "../../../server/rules/rule-file-types.ts";
import { TEST_CONTEXT } from "../../helpers/rules.ts";
import { compileFiles } from "../../helpers/ruleset.ts";

const HANGUP = { Event: "Hangup", From: "919876543210", To: "918040001234", Duration: "95", CallUUID: "c-1" };

function run(
  tests: RuleTest[],
  extraRules: Array<Record<string, unknown>> = [],
  templates: Record<string, string> = {},
) {
  const { ruleset, problems } = compileFiles(
    {
      "r.json": {
        rules: [
          {
            id: "crm",
            on: "call_end",
            when: { ">": [{ var: "Duration" }, 60] },
            actions: [
              {
                type: "forward",
                url: "https://crm.example.com/calls?caller=<<caller_e164>>",
                headers: { Authorization: "Bearer <<secrets.CRM_TOKEN>>" },
              },
              { type: "vobiz", vobiz: "speak", params: { text: "Thanks <<caller>>" } },
            ],
            tests,
          },
          ...(extraRules as never[]),
        ],
      },
    },
    templates,
  );
  assert.deepEqual(problems, []);
  return runRuleTests({ ruleset, defaultReply: undefined }, TEST_CONTEXT);
}

test("passing expectations: match, rules, partial forward (secrets shown as placeholders), vobiz", () => {
  const [result] = run([
    {
      name: "long call",
      event: HANGUP,
      expect: {
        match: true,
        rules: ["crm"],
        forward: [
          {
            url: "https://crm.example.com/calls?caller=%2B919876543210",
            method: "POST",
            headers: { Authorization: "Bearer [secret CRM_TOKEN]" },
            body: "Event=Hangup&From=919876543210&To=918040001234&Duration=95&CallUUID=c-1",
          },
        ],
        vobiz: [{ vobiz: "speak", params: { text: "Thanks 919876543210", call_uuid: "c-1" } }],
      },
    },
  ]);
  assert.deepEqual(result?.failures, []);
  assert.equal(result?.passed, true);
});

test("vobiz expectations compare the action's name and its params as they would be sent", () => {
  const results = run(
    [
      {
        name: "wrong text",
        event: HANGUP,
        expect: { vobiz: [{ vobiz: "speak", params: { text: "Thanks" } }] },
      },
      { name: "wrong action", event: HANGUP, expect: { vobiz: [{ vobiz: "play" }] } },
    ],
    [
      {
        id: "typed",
        on: "Hangup",
        actions: [{ type: "vobiz", vobiz: "speak", params: { text: "x", loop: "<<Duration > 60>>" } }],
        tests: [
          {
            name: "coerced",
            event: HANGUP,
            expect: { vobiz: [{ params: { loop: true, call_uuid: "c-1" } }] },
          },
        ],
      },
      {
        id: "bad-voice",
        on: "Hangup",
        actions: [{ type: "vobiz", vobiz: "speak", params: { text: "x", voice: "<<Voice>>" } }],
        tests: [{ event: { ...HANGUP, Voice: "GIRL" }, expect: { vobiz: [{ vobiz: "speak" }] } }],
      },
    ],
  );
  const byName = new Map(results.map((result) => [`${result.rule}/${result.name}`, result]));
  assert.equal(byName.get("crm/wrong text")?.passed, false);
  assert.match(describeFailure(byName.get("crm/wrong text")!.failures[0]!), /rendered vobiz actions differ/);
  assert.equal(byName.get("crm/wrong action")?.passed, false);
  assert.equal(byName.get("typed/coerced")?.passed, true, JSON.stringify(byName.get("typed/coerced")));
  const bad = byName.get("bad-voice/test 1");
  assert.equal(bad?.passed, false);
  assert.match(
    describeFailure(bad.failures[0]!),
    /voice: "GIRL" is not allowed; use one of "WOMAN", "MAN", "Polly"/,
  );
});

test("a failed match says why the rule did not match", () => {
  const [result] = run([
    { name: "short call", event: { ...HANGUP, Duration: "10" }, expect: { match: true } },
  ]);
  assert.equal(result?.passed, false);
  assert.equal(result?.failures[0]?.expectation, "match");
  assert.match(
    describeFailure(result.failures[0]),
    /the rule did not match: "when" was false; expected match true, got false/,
  );
});

test("a wrong forward shows expected and actual side by side, limited to the keys compared", () => {
  const [result] = run([
    { event: HANGUP, expect: { forward: [{ url: "https://crm.example.com/calls?caller=919876543210" }] } },
  ]);
  const failure = result?.failures[0];
  assert.equal(failure?.expectation, "forward");
  assert.deepEqual(failure?.actual, [{ url: "https://crm.example.com/calls?caller=%2B919876543210" }]);
  assert.match(
    describeFailure(failure),
    /expected forward \[\{"url":"https:\/\/crm.example.com\/calls\?caller=919876543210"\}\], got \[\{"url":"https:\/\/crm.example.com\/calls\?caller=%2B919876543210"\}\]/,
  );
});

test("rules lists every matched rule of the ruleset in order", () => {
  const [result] = run(
    [{ event: HANGUP, expect: { rules: ["crm"] } }],
    [{ id: "audit", priority: 1, actions: [{ type: "forward", url: "https://a.example.com/" }] }],
  );
  assert.deepEqual(result?.failures[0]?.actual, ["audit", "crm"]);
});

test("xml and xml_contains check the reply the caller would hear, at the test's fixed time", () => {
  const answer = {
    id: "menu",
    path: "/answer/**",
    actions: [{ type: "respond", xml: "<Response><Speak><<meta.receivedAt>> <<From>></Speak></Response>" }],
  };
  const results = run(
    [{ event: HANGUP, expect: { match: true } }],
    [
      {
        ...answer,
        tests: [
          {
            path: "/answer/x",
            event: { Event: "StartApp", From: "1" },
            expect: { xml: "<Response><Speak>2025-01-06T10:00:00.000Z 1</Speak></Response>" },
          },
          {
            path: "/answer/x",
            at: "2025-02-01T00:00:00Z",
            event: { Event: "StartApp", From: "1" },
            expect: { xml_contains: ["2025-02-01", "<Hangup/>"] },
          },
        ],
      },
    ],
  );
  assert.equal(results[1]?.passed, true);
  assert.equal(results[2]?.passed, false);
  assert.deepEqual(
    results[2]?.failures.map((f) => [f.expectation, f.expected]),
    [["xml_contains", ["<Hangup/>"]]],
  );
});

test("a test of an answer request fails when the rule's reply is not valid Vobiz XML, even without xml expectations", () => {
  const results = run(
    [{ event: HANGUP, expect: { match: true } }],
    [
      {
        id: "plivo-menu",
        path: "/answer/**",
        actions: [
          {
            type: "respond",
            xml: '<Response><Gather type="dtmf"><Speak>Press 1</Speak></Gather></Response>',
          },
        ],
        tests: [{ path: "/answer/x", event: { Event: "StartApp" }, expect: { match: true } }],
      },
    ],
  );
  const failure = results[1]?.failures[0];
  assert.equal(failure?.message, "the reply is not valid Vobiz XML");
  assert.match(JSON.stringify(failure?.actual), /no attribute \\"type\\": use inputType/);
});
