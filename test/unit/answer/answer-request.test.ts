import assert from "node:assert/strict";
import { test } from "node:test";
import { createAnswerer, type AnswerInput } from "../../../server/answer/answer-request.ts";
import { createLogger } from "../../../server/logger.ts";
import type { LoadedRuleset } from "../../../server/rules/load-ruleset.ts";
import { RuleRegistry } from "../../../server/rules/rule-registry.ts";
import { TEST_CONTEXT, scratchRuleset } from "../../helpers/rules.ts";

const disk = await scratchRuleset({
  rules: {
    "a-main.json": {
      rules: [
        {
          id: "welcome",
          on: "StartApp",
          path: "/answer/main",
          actions: [{ type: "respond", xml: "<Response><Speak>Welcome</Speak></Response>" }],
        },
        {
          id: "also-responds",
          on: "StartApp",
          path: "/answer/main",
          priority: -1,
          actions: [{ type: "respond", xml: "<Response/>" }],
        },
        {
          id: "needs-name",
          path: "/answer/named",
          actions: [{ type: "respond", xml: "<Response><Speak>Hi <<CustomerName>></Speak></Response>" }],
          tests: [
            { path: "/answer/named", event: { CustomerName: "Asha" }, expect: { xml_contains: "Hi Asha" } },
          ],
        },
      ],
    },
    "b-own-fallback.json": {
      fallback: "custom-fallback.xml",
      rules: [
        {
          id: "sometimes-invalid",
          path: "/answer/menu",
          actions: [
            {
              type: "respond",
              xml: '<Response>{% if Digits == "9" %}<Say>Plivo</Say>{% else %}<Speak>ok</Speak>{% endif %}</Response>',
            },
          ],
        },
        // heavy conditions on /answer/heavy, then a responding rule they keep out of reach. On the test's
        // 1,000,000-character value each takes about 25 ms here, so together (1.5 s) they outlast the 50 ms
        // budget on a far faster machine too; on a short value all 60 take a few ms, well within it on a busy
        // machine (400 of them took 12-40 ms on a quiet one, and a busy one stopped them)
        ...Array.from({ length: 60 }, (_, i) => ({
          id: `heavy.${i}`,
          path: "/answer/heavy",
          when: { matches: [{ var: "Big" }, `(a|aa)+(b|${i})$`] },
          actions: [{ type: "forward", url: "https://example.com/hook" }],
        })),
        {
          id: "heavy.reply",
          path: "/answer/heavy",
          priority: -1,
          actions: [{ type: "respond", xml: "<Response><Speak>Late</Speak></Response>" }],
        },
      ],
    },
  },
  templates: { "custom-fallback.xml": "<Response><Speak>Menu trouble</Speak><Hangup/></Response>" },
});
const loaded = await disk.load();
assert.deepEqual(loaded.problems, []);
const registry = new RuleRegistry<LoadedRuleset>();
registry.swap(loaded.loaded!, loaded.version!);
const answer = createAnswerer({
  registry,
  context: TEST_CONTEXT,
  budgetMs: 1500,
  log: createLogger({ level: "silent" }),
});
const input = (path: string, payload: Record<string, string>): AnswerInput => ({
  id: "evt_1",
  path,
  query: {},
  payload,
  receivedAt: "2025-01-06T10:00:00.000Z",
});

test("the first responding rule answers; later respond actions are named as ignored", () => {
  const reply = answer(input("/answer/main", { Event: "StartApp" }));
  assert.equal(reply.xml, "<Response><Speak>Welcome</Speak></Response>");
  assert.equal(reply.outcome, "rule");
  assert.equal(reply.rule, "welcome");
  assert.deepEqual(reply.ignored, ["also-responds"]);
});

test("no responding rule: templates/default.xml; an event that expects no XML: <Response/>", () => {
  const reply = answer(input("/answer/nowhere", { Event: "StartApp" }));
  assert.equal(reply.outcome, "default");
  assert.match(reply.xml, /<Speak>Thank you for calling/);
  const hangup = answer(input("/answer/main", { Event: "Hangup" }));
  assert.equal(hangup.outcome, "empty");
  assert.match(hangup.xml, /<Response\/>/);
});

test("a failing template gets templates/fallback.xml, with the reason and the error", () => {
  const reply = answer(input("/answer/named", { Event: "StartApp" }));
  assert.equal(reply.outcome, "fallback");
  assert.equal(reply.reason, "template_error");
  assert.match(reply.error ?? "", /undefined/);
  assert.match(reply.xml, /having trouble handling your call/);
});

test("a reply that is not valid Vobiz XML gets the rule file's own fallback", () => {
  assert.equal(answer(input("/answer/menu", { Digits: "1" })).xml, "<Response><Speak>ok</Speak></Response>");
  const reply = answer(input("/answer/menu", { Digits: "9" }));
  assert.equal(reply.outcome, "fallback");
  assert.equal(reply.reason, "invalid_xml");
  assert.match(reply.error ?? "", /<Say> is not a Vobiz element/);
  assert.equal(reply.xml, "<Response><Speak>Menu trouble</Speak><Hangup/></Response>");
});

test("a reply over the budget is replaced by the fallback", () => {
  const slow = createAnswerer({
    registry,
    context: TEST_CONTEXT,
    budgetMs: -1,
    log: createLogger({ level: "silent" }),
  });
  const reply = slow(input("/answer/main", { Event: "StartApp" }));
  assert.equal(reply.outcome, "fallback");
  assert.equal(reply.reason, "budget");
});

test("conditions that run past the CPU budget: the fallback, not the default reply", () => {
  const reply = answer(input("/answer/heavy", { Event: "StartApp", Big: "a".repeat(1_000_000) }));
  assert.equal(reply.outcome, "fallback");
  assert.equal(reply.reason, "budget");
  assert.match(reply.error ?? "", /rule heavy\.\d+: evaluation stopped: .*CPU budget/);
  assert.equal(reply.xml, "<Response><Speak>Menu trouble</Speak><Hangup/></Response>", "the file's fallback");
  const small = answer(input("/answer/heavy", { Event: "StartApp", Big: "ab" }));
  assert.equal(small.rule, "heavy.reply", JSON.stringify(small));
});
