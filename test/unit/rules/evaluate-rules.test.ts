import assert from "node:assert/strict";
import { test } from "node:test";
import { evaluateRules } from "../../../server/rules/evaluate-rules.ts";
import { testEvent } from "../../../server/rules/run-rule-tests.ts";
import { TEST_CONTEXT, scratchRuleset } from "../../helpers/rules.ts";
import { loadRuleset } from "../../../server/rules/load-ruleset.ts";
import { FORWARD, compileFiles } from "../../helpers/ruleset.ts";

const matchedIds = (
  rules: Parameters<typeof compileFiles>[0],
  event: Record<string, unknown>,
  options: { path?: string; query?: Record<string, string>; at?: string } = {},
): string[] => {
  const { ruleset, problems } = compileFiles(rules);
  assert.deepEqual(problems, []);
  return evaluateRules(ruleset, testEvent({ event, ...options }, TEST_CONTEXT).context).matched.map(
    (r) => r.id,
  );
};

test("priority orders matches (higher first); equal priority keeps file order then position", () => {
  const files = {
    "a.json": {
      rules: [
        { id: "a1", actions: FORWARD },
        { id: "a2", priority: 5, actions: FORWARD },
      ],
    },
    "b.json": {
      rules: [
        { id: "b1", actions: FORWARD },
        { id: "b2", priority: -1, actions: FORWARD },
      ],
    },
  };
  assert.deepEqual(matchedIds(files, { Event: "Hangup" }), ["a2", "a1", "b1", "b2"]);
});

test("on: event types and aliases, case-insensitively; * matches anything", () => {
  const files = {
    "r.json": {
      rules: [
        { id: "hangup", on: "hangup", actions: FORWARD },
        { id: "call-end", on: "CALL_END", actions: FORWARD },
        { id: "failed", on: "call.failed", actions: FORWARD },
        { id: "ring-or-start", on: ["Ring", "StartApp"], actions: FORWARD },
        { id: "any", on: "*", actions: FORWARD },
      ],
    },
  };
  assert.deepEqual(matchedIds(files, { Event: "Hangup", CallStatus: "completed" }), [
    "hangup",
    "call-end",
    "any",
  ]);
  assert.deepEqual(matchedIds(files, { Event: "Hangup", CallStatus: "busy" }), [
    "hangup",
    "call-end",
    "failed",
    "any",
  ]);
  assert.deepEqual(matchedIds(files, { Event: "StartApp" }), ["ring-or-start", "any"]);
  assert.deepEqual(matchedIds(files, { Event: "SomethingNew" }), ["any"]);
});

test("conference aliases look at the first/last member flags", () => {
  const files = {
    "r.json": {
      rules: [
        { id: "started", on: "conference.started", actions: FORWARD },
        { id: "ended", on: "conference.ended", actions: FORWARD },
      ],
    },
  };
  assert.deepEqual(matchedIds(files, { Event: "ConferenceEnter", ConferenceFirstMember: "true" }), [
    "started",
  ]);
  assert.deepEqual(matchedIds(files, { Event: "ConferenceEnter", ConferenceFirstMember: "false" }), []);
  assert.deepEqual(matchedIds(files, { Event: "ConferenceExit", ConferenceLastMember: "true" }), ["ended"]);
});

test("path globs match the request path; ** spans segments, * does not", () => {
  const files = {
    "r.json": {
      rules: [
        { id: "support-tree", path: "/answer/support/**", actions: FORWARD },
        { id: "one-level", path: "/answer/*", actions: FORWARD },
        { id: "either", path: ["/events", "/events/calls"], actions: FORWARD },
      ],
    },
  };
  assert.deepEqual(matchedIds(files, { Event: "StartApp" }, { path: "/answer/support/menu/2" }), [
    "support-tree",
  ]);
  assert.deepEqual(matchedIds(files, { Event: "StartApp" }, { path: "/answer/sales" }), ["one-level"]);
  assert.deepEqual(matchedIds(files, { Event: "Hangup" }, { path: "/events/calls" }), ["either"]);
});

test("scope compares with the ?app= / ?trunk= of the URL Vobiz called", () => {
  const files = { "r.json": { rules: [{ id: "support-app", scope: { app: "support" }, actions: FORWARD }] } };
  assert.deepEqual(matchedIds(files, { Event: "Hangup" }, { query: { app: "support" } }), ["support-app"]);
  assert.deepEqual(matchedIds(files, { Event: "Hangup" }, { query: { app: "sales" } }), []);
  assert.deepEqual(matchedIds(files, { Event: "Hangup" }), []);
});

test("stop: a matching rule hides rules of lower priority, not those of equal priority", () => {
  const files = {
    "r.json": {
      rules: [
        { id: "top", priority: 10, stop: true, when: { "==": [{ var: "From" }, "1"] }, actions: FORWARD },
        { id: "peer", priority: 10, actions: FORWARD },
        { id: "below", actions: FORWARD },
      ],
    },
  };
  assert.deepEqual(matchedIds(files, { From: "1" }), ["top", "peer"]);
  assert.deepEqual(matchedIds(files, { From: "2" }), ["peer", "below"]);
});

test("enabled: false never matches; when uses json-logic-js semantics over strings as received", () => {
  const files = {
    "r.json": {
      rules: [
        { id: "off", enabled: false, actions: FORWARD },
        { id: "long", when: { ">": [{ var: "Duration" }, 60] }, actions: FORWARD },
        { id: "mobile", when: { starts_with: [{ var: "caller_e164" }, "+919"] }, actions: FORWARD },
      ],
    },
  };
  assert.deepEqual(matchedIds(files, { Event: "Hangup", Duration: "95", From: "919876543210" }), [
    "long",
    "mobile",
  ]);
  assert.deepEqual(matchedIds(files, { Event: "Hangup", Duration: "5", From: "918040001234" }), []);
});

test("rules are indexed by type: an event only costs the rules that can match it", () => {
  const rules = Array.from({ length: 50 }, (_, i) => ({
    id: `r${i}`,
    on: `Type${i % 10}`,
    actions: FORWARD,
  }));
  const { ruleset } = compileFiles({ "r.json": { rules: [...rules, { id: "any", actions: FORWARD }] } });
  assert.deepEqual(
    ruleset.candidates("type3").map((r) => r.id),
    ["r3", "r13", "r23", "r33", "r43", "any"],
  );
  assert.deepEqual(
    ruleset.candidates("hangup").map((r) => r.id),
    ["any"],
  );
});

test("explain: every candidate says why it did or did not match, down to each sub-condition", () => {
  const { ruleset } = compileFiles({
    "r.json": {
      rules: [
        { id: "wrong-path", path: "/answer/**", actions: FORWARD },
        {
          id: "long-mobile",
          when: {
            and: [{ ">": [{ var: "Duration" }, 60] }, { starts_with: [{ var: "caller_e164" }, "+919"] }],
          },
          actions: FORWARD,
        },
      ],
    },
  });
  const { context } = testEvent(
    { event: { Event: "Hangup", Duration: "95", From: "918040001234" } },
    TEST_CONTEXT,
  );
  const result = evaluateRules(ruleset, context, { explain: true });
  assert.deepEqual(result.matched, []);
  assert.equal(result.verdicts?.[0]?.failed, "path");
  const when = result.verdicts?.[1];
  assert.equal(when?.failed, "when");
  assert.equal(when?.when?.value, false);
  assert.deepEqual(
    when?.when?.args?.map((arg) => arg.value),
    [true, false],
  );
});

test("a condition that throws does not match and is reported, and other rules still run", () => {
  const { ruleset } = compileFiles({
    "r.json": {
      rules: [
        {
          id: "bad-regex-at-runtime",
          when: { matches: [{ var: "From" }, { var: "Pattern" }] },
          actions: FORWARD,
        },
        { id: "fine", actions: FORWARD },
      ],
    },
  });
  const { context } = testEvent({ event: { From: "1", Pattern: "(" } }, TEST_CONTEXT);
  const result = evaluateRules(ruleset, context);
  assert.deepEqual(
    result.matched.map((r) => r.id),
    ["fine"],
  );
  assert.equal(result.errors[0]?.id, "bad-regex-at-runtime");
});

test("e164 in a condition uses DEFAULT_COUNTRY: from the context options through loading to evaluation", async () => {
  const when = { "==": [{ e164: [{ var: "From" }] }, "+447971442086"] };
  const disk = await scratchRuleset({
    rules: {
      "uk.json": {
        rules: [
          {
            id: "uk-caller",
            when,
            actions: FORWARD,
            tests: [
              { name: "a national UK number", event: { From: "07971442086" }, expect: { match: true } },
            ],
          },
        ],
      },
    },
  });
  const context = { ...TEST_CONTEXT, defaultCountry: "GB" };
  const result = await loadRuleset({ rulesDir: disk.rulesDir, templatesDir: disk.templatesDir, context });
  assert.deepEqual(result.problems, [], "the rule's own test passes");
  const ruleset = result.loaded?.ruleset;
  assert.ok(ruleset);
  const uk = testEvent({ event: { From: "07971442086" } }, context).context;
  assert.deepEqual(
    evaluateRules(ruleset, uk).matched.map((r) => r.id),
    ["uk-caller"],
  );
  assert.deepEqual(ruleset.rule("uk-caller")?.when, when, "the condition as written is kept");

  const india = compileFiles({ "uk.json": { rules: [{ id: "uk-caller", when, actions: FORWARD }] } });
  const indian = testEvent({ event: { From: "07971442086" } }, TEST_CONTEXT).context;
  assert.deepEqual(evaluateRules(india.ruleset, indian).matched, [], "compiled for IN, the number is Indian");
});

test("an event whose conditions run past the CPU budget: the rule that ran out fails, later rules are not evaluated", () => {
  // a hostile payload (a 60 000-character field) against many linear but heavy patterns: together they
  // take far longer than the budget, yet each one alone finishes
  const heavy = Array.from({ length: 40 }, (_, i) => ({
    id: `heavy.${i}`,
    when: { matches: [{ var: "Big" }, `(a|aa)+(b|${i})$`] },
    actions: FORWARD,
  }));
  const { ruleset, problems } = compileFiles({
    "r.json": {
      rules: [
        { id: "first", priority: 10, actions: FORWARD },
        ...heavy,
        { id: "last", priority: -10, actions: FORWARD },
      ],
    },
  });
  assert.deepEqual(problems, []);
  const event = { Event: "Hangup", Big: "a".repeat(60_000) };
  // a 2 ms budget: how long the heavy rules take depends on the machine (on a fast one the 40 of them fit
  // in the default 50 ms), while the first rule, which has no condition, is decided well within it
  const evaluation = evaluateRules(ruleset, testEvent({ event }, TEST_CONTEXT).context, { budgetMs: 2 });
  assert.deepEqual(
    evaluation.matched.map((rule) => rule.id),
    ["first"],
    "rules decided before the budget ran out stand; the last rule is never reached",
  );
  assert.equal(evaluation.overBudget, true);
  assert.equal(evaluation.errors.length, 1);
  assert.match(evaluation.errors[0]?.id ?? "", /^heavy\.\d+$/);
  assert.match(evaluation.errors[0]?.error ?? "", /ran past their CPU budget \(2 ms\)/);

  // the dry run says the same, rule by rule
  const explained = evaluateRules(ruleset, testEvent({ event }, TEST_CONTEXT).context, {
    explain: true,
    budgetMs: 2,
  });
  assert.equal(explained.verdicts?.at(-1)?.failed, "error");
  assert.ok(!explained.verdicts?.some((verdict) => verdict.id === "last"));

  // a small event is evaluated in full
  const small = evaluateRules(
    ruleset,
    testEvent({ event: { Event: "Hangup", Big: "ab" } }, TEST_CONTEXT).context,
  );
  assert.deepEqual(small.errors, []);
  assert.equal(small.overBudget, undefined);
  assert.deepEqual(
    small.matched.map((rule) => rule.id),
    ["first", ...heavy.map((rule) => rule.id), "last"],
  );
});
