/**
 * The seed documents' configuration examples (test/fixtures/seeds), pasted into rule files, behave as
 * their documents describe: the most specific callback level that accepts the event wins, events lists
 * filter, fallback URLs are kept, callback-profile URLs are substituted and sent with GET.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import type { RenderedForward } from "../../../server/actions/compile-actions.ts";
import { evaluateRules } from "../../../server/rules/evaluate-rules.ts";
import { testEvent } from "../../../server/rules/run-rule-tests.ts";
import { REPO, TEST_CONTEXT } from "../../helpers/rules.ts";
import { compileFiles } from "../../helpers/ruleset.ts";

const seed = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(path.join(REPO, "test/fixtures/seeds", name), "utf8")) as Record<string, unknown>;

const hierarchy = compileFiles({
  "callbacks.json": {
    callbacks: {
      account: { default_callback_url: "https://api.yourapp.com/webhooks/account-default" },
      applications: { support: seed("application-callback.json") },
      trunks: { trk_sales: seed("trunk-callback.json") },
    },
  },
});

function route(event: Record<string, string>, query: Record<string, string> = {}) {
  const { context, payload } = testEvent({ path: "/events", event, query }, TEST_CONTEXT);
  const result = evaluateRules(hierarchy.ruleset, context, { explain: true });
  const forwards = result.matched.map(
    (rule) =>
      rule.compiled[0]?.render({
        context,
        payload,
        rule: { id: rule.id, description: rule.description },
      }) as RenderedForward,
  );
  return { ids: result.matched.map((rule) => rule.id), forwards, verdicts: result.verdicts ?? [] };
}

test("the seed configurations load as ordinary rules with stable ids", () => {
  assert.deepEqual(hierarchy.problems, []);
  assert.deepEqual(
    hierarchy.ruleset.rules.map((rule) => [rule.id, rule.source, rule.line]),
    [
      ["callbacks.application.support", "callbacks", 7],
      ["callbacks.trunk.trk_sales", "callbacks", 21],
      ["callbacks.account.default", "callbacks", 3],
    ],
  );
});

test("the application's callback wins for its events, form-encoded POST with its fallback URL", () => {
  const { ids, forwards } = route(
    { Event: "Hangup", CallUUID: "c1", From: "+14155551234" },
    { app: "support", trunk: "trk_sales" },
  );
  assert.deepEqual(ids, ["callbacks.application.support"]);
  assert.equal(forwards[0]?.url, "https://api.yourapp.com/webhooks/vobiz/calls");
  assert.equal(forwards[0]?.method, "POST");
  assert.equal(forwards[0]?.content_type, "application/x-www-form-urlencoded");
  assert.equal(forwards[0]?.body, "Event=Hangup&CallUUID=c1&From=%2B14155551234");
  assert.equal(forwards[0]?.fallback_url, "https://backup.yourapp.com/webhooks/vobiz/calls");
});

test("recording.completed in the application's list accepts RecordStop", () => {
  assert.deepEqual(route({ Event: "RecordStop" }, { app: "support" }).ids, ["callbacks.application.support"]);
});

test("an event the application does not accept falls to the trunk, then to the account default", () => {
  const busy = route({ Event: "Hangup", CallStatus: "busy" }, { trunk: "trk_sales" });
  assert.deepEqual(busy.ids, ["callbacks.trunk.trk_sales"]);
  assert.equal(busy.forwards[0]?.url, "https://api.yourapp.com/webhooks/trunk-events");
  const conference = route({ Event: "ConferenceEnter" }, { app: "support", trunk: "trk_sales" });
  assert.deepEqual(
    conference.ids,
    ["callbacks.account.default"],
    "neither list has ConferenceEnter; the account's empty list takes all",
  );
  assert.deepEqual(
    route({ Event: "StartApp" }).ids,
    ["callbacks.account.default"],
    "no scope: the account default",
  );
});

test("a less specific level that also matched is shown as superseded in the dry run", () => {
  const { verdicts } = route({ Event: "Ring" }, { app: "support", trunk: "trk_sales" });
  assert.deepEqual(
    verdicts.map((v) => [v.id, v.matched, v.failed]),
    [
      ["callbacks.application.support", true, undefined],
      ["callbacks.trunk.trk_sales", false, "superseded"],
      ["callbacks.account.default", false, "superseded"],
    ],
  );
});

const PROFILES = {
  "SG_cXX9-bXX4-4XX9-aXXf-27XX9": { url: "https://crm.example.com/kaleyra/start?caller={caller}" },
  "SG_96XX3-2XXb-4XX2-9XX3-feXXe": { url: "https://crm.example.com/kaleyra/answer", method: "POST" as const },
  "SG_f8XX40-fXX8-4XXf-aXX3-c9XXb": {
    url: "https://crm.example.com/kaleyra/end?secs={billsec}&status={status}",
  },
};

test("Kaleyra outbound callback profiles: ids resolved, URLs substituted, GET unless the profile says otherwise", () => {
  const { ruleset, problems } = compileFiles({
    "kaleyra.json": { profiles: PROFILES, callback: seed("kaleyra-outbound.json") },
  });
  assert.deepEqual(problems, []);
  const render = (event: Record<string, string>) => {
    const { context, payload } = testEvent({ event }, TEST_CONTEXT);
    return evaluateRules(ruleset, context).matched.map((rule) => {
      const forward = rule.compiled[0]?.render({
        context,
        payload,
        rule: { id: rule.id, description: undefined },
      }) as RenderedForward;
      return [
        rule.id,
        forward.method,
        forward.url.split("?")[0] + "?" + (forward.url.split("?")[1] ?? "").split("&Event=")[0],
      ];
    });
  };
  assert.deepEqual(render({ Event: "Ring", From: "919876543210", To: "918040001234" }), [
    ["callback.call_start.1", "GET", "https://crm.example.com/kaleyra/start?caller=919876543210"],
    ["callback.call_start.2", "GET", "https://webhook.site/2cXX9-6XX0-4XX7-bXX9-aeXX31?caller=919876543210"],
  ]);
  const answer = render({ Event: "StartApp", From: "919876543210" });
  assert.deepEqual(
    answer.map(([id, method]) => [id, method]),
    [
      ["callback.call_answer.1", "POST"],
      ["callback.call_answer.2", "GET"],
    ],
  );
  assert.deepEqual(
    render({
      Event: "Hangup",
      From: "919876543210",
      To: "918040001234",
      BillDuration: "42",
      CallStatus: "completed",
    }),
    [
      ["callback.call_end.1", "GET", "https://crm.example.com/kaleyra/end?secs=42&status=completed"],
      ["callback.call_end.2", "GET", "https://webhook.site/2cXX9-6XX0-4XX7-bXX9-aeXX1?caller=919876543210"],
      ["callback.call_end.3", "GET", "https://webhook.site/2cXX89-6XX0-4XX7-bXX9-aeXX1?callee=918040001234"],
    ],
  );
});

test("Kaleyra click-to-call names map to Vobiz events; keys are case-insensitive; a missing value is empty", () => {
  const ids = Object.fromEntries(
    Object.values(seed("kaleyra-click-to-call.json")).flatMap((entry) =>
      (entry as { callback_profile: string[] }).callback_profile.map((id) => [
        id,
        { url: "https://crm.example.com/c2c?secs={billsec}" },
      ]),
    ),
  );
  const { ruleset, problems } = compileFiles({
    "c2c.json": { profiles: ids, callback: { ...seed("kaleyra-click-to-call.json"), CALL_END: undefined } },
  });
  assert.deepEqual(problems, []);
  const matched = (event: Record<string, string>): string[] =>
    evaluateRules(ruleset, testEvent({ event }, TEST_CONTEXT).context).matched.map((rule) => rule.id);
  assert.deepEqual(matched({ Event: "DialAnswer" }), [
    "callback.to_call_answer.1",
    "callback.to_call_answer.2",
  ]);
  assert.deepEqual(matched({ Event: "StartApp" }), [
    "callback.from_call_answer.1",
    "callback.from_call_answer.2",
  ]);
  assert.deepEqual(matched({ Event: "CallInitiated" }), [
    "callback.from_call_start.1",
    "callback.from_call_start.2",
  ]);
  const { context, payload } = testEvent({ event: { Event: "Hangup" } }, TEST_CONTEXT);
  const [first] = evaluateRules(ruleset, context).matched;
  const forward = first?.compiled[0]?.render({
    context,
    payload,
    rule: { id: "x", description: undefined },
  }) as RenderedForward;
  assert.equal(forward.url.split("&")[0], "https://crm.example.com/c2c?secs=");
  const upper = compileFiles({ "u.json": { callback: { CALL_END: { url: ["https://h.example.com/e"] } } } });
  assert.deepEqual(
    evaluateRules(upper.ruleset, context).matched.map((rule) => rule.id),
    ["callback.call_end.1"],
  );
});

test("more than 10 profile ids and URLs, or an unknown profile id, are located load errors", () => {
  const urls = Array.from({ length: 6 }, (_, i) => `https://h.example.com/${i}`);
  const { problems } = compileFiles({
    "k.json": {
      profiles: { SG_known: { url: "https://k.example.com" } },
      callback: {
        call_end: {
          callback_profile: ["SG_known", "SG_known", "SG_known", "SG_known", "SG_known"],
          url: urls,
        },
        call_start: { callback_profile: ["SG_nope"] },
      },
    },
  });
  assert.deepEqual(
    problems.map((p) => [p.code, p.pointer]),
    [
      ["RULE_TOO_MANY_CALLBACKS", "/callback/call_end"],
      ["RULE_UNKNOWN_PROFILE", "/callback/call_start/callback_profile/0"],
    ],
  );
  assert.match(problems[0]?.message ?? "", /5 profile ids and 6 URLs; at most 10/);
});
