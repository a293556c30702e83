import assert from "node:assert/strict";
import { test } from "node:test";
import { backtest, compareOutcomes, recordedOutcome } from "../../../server/cli/backtest.ts";
import type { ExportedEvent } from "../../../server/events/event-export.ts";

const exported = (fields: Partial<ExportedEvent>): ExportedEvent => ({
  id: "evt_1",
  type: "Hangup",
  route: "events",
  method: "POST",
  path: "/events",
  query: {},
  contentType: "application/x-www-form-urlencoded",
  raw: "Event=Hangup&CallUUID=c1",
  receivedAt: "2025-01-06T10:00:00.000Z",
  status: "ok",
  replayOf: null,
  decision: { ruleset: null, matched: ["a"], actions: [{ rule: "a", index: 0, type: "forward" }] },
  answer: null,
  ...fields,
});

test("a recorded decision is compared by rules and actions; a call's own status_url is no rule of a file", () => {
  const event = exported({
    decision: {
      ruleset: null,
      matched: ["callbacks.call.x", "a"],
      actions: [
        { rule: "callbacks.call.x", index: 0, type: "forward" },
        { rule: "a", index: 0, type: "forward" },
      ],
    },
  });
  const recorded = recordedOutcome(event);
  assert.deepEqual(recorded, { rules: ["a"], actions: ["a#0 forward"] });
  assert.equal(compareOutcomes(event, recorded, { rules: ["a"], actions: ["a#0 forward"] }), undefined);
  const change = compareOutcomes(event, recorded, { rules: ["b"], actions: ["b#0 forward"] });
  assert.deepEqual([change?.added, change?.removed, change?.changed, change?.call], [["b"], ["a"], [], "c1"]);
  const notes = compareOutcomes(event, recorded, {
    rules: ["a"],
    actions: ['a#0 forward (profile "crm" is only for Hangup)'],
  });
  assert.deepEqual(notes?.changed, ["a"], "an action that no longer runs is a change of that rule");
});

test("rendered forwards and XML count only when both sides have them (a base ruleset)", () => {
  const event = exported({});
  const before = {
    rules: ["a"],
    actions: ["a#0 forward"],
    rendered: { "a#0": { url: "https://x" } },
    xml: null,
  };
  const moved = { ...before, rendered: { "a#0": { url: "https://y" } } };
  assert.deepEqual(compareOutcomes(event, before, moved)?.changed, ["a"]);
  assert.equal(compareOutcomes(event, { rules: ["a"], actions: ["a#0 forward"] }, moved), undefined);
  assert.equal(
    compareOutcomes(event, { ...before, xml: "<Response/>" }, { ...before, xml: "<Response/>" }),
    undefined,
  );
  assert.equal(
    compareOutcomes(
      event,
      { ...before, xml: "<Response/>" },
      { ...before, xml: "<Response><Hangup/></Response>" },
    )?.xml,
    true,
  );
});

test("replays and undecided events are skipped and counted", async () => {
  const report = await backtest(
    [exported({ id: "evt_2", replayOf: "evt_1" }), exported({ id: "evt_3", decision: null })],
    { candidate: undefined as never, options: { defaultCountry: "IN", publicUrl: "https://sb.example.com" } },
  );
  assert.deepEqual([report.events, report.skipped], [0, { replays: 1, undecided: 1 }]);
  assert.deepEqual(report.changes, []);
});
