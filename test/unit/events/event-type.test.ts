import assert from "node:assert/strict";
import { test } from "node:test";
import { matchesEventName, resolveEventType, typesForName } from "../../../server/events/event-type.ts";

test("the type comes from Event, then event, then Gather fields, else Request", () => {
  assert.equal(resolveEventType({ Event: "Hangup", event: "x" }), "Hangup");
  assert.equal(resolveEventType({ event: "call.failed" }), "call.failed");
  assert.equal(resolveEventType({ Digits: "1" }), "Gather");
  assert.equal(resolveEventType({ Speech: "" }), "Gather");
  assert.equal(resolveEventType({ InputType: "dtmf" }), "Gather");
  assert.equal(resolveEventType({ CallUUID: "x" }), "Request");
  assert.equal(resolveEventType({ Event: "", Digits: "2" }), "Gather");
  assert.equal(resolveEventType({ Event: { nested: 1 } }), "Request", "only strings name a type");
});

test("names match case-insensitively; * matches anything; unknown types match themselves", () => {
  assert.ok(matchesEventName("hangup", "Hangup", {}));
  assert.ok(matchesEventName("*", "Whatever", {}));
  assert.ok(matchesEventName("StreamThing", "streamthing", {}));
  assert.ok(!matchesEventName("Ring", "Hangup", {}));
});

test("the SPEC §3 alias table", () => {
  const cases: Array<[string, string, Record<string, string>, boolean]> = [
    ["recording.completed", "RecordStop", {}, true],
    ["conference.started", "ConferenceEnter", { ConferenceFirstMember: "true" }, true],
    ["conference.started", "ConferenceEnter", { ConferenceFirstMember: "false" }, false],
    ["conference.ended", "ConferenceExit", { ConferenceLastMember: "true" }, true],
    ["conference.ended", "ConferenceExit", {}, false],
    ["call_start", "CallInitiated", {}, true],
    ["call_start", "Ring", {}, true],
    ["FROM_CALL_START", "Ring", {}, true],
    ["call_answer", "StartApp", {}, true],
    ["from_call_answer", "StartApp", {}, true],
    ["to_call_answer", "DialAnswer", {}, true],
    ["call_end", "Hangup", {}, true],
    ["call.failed", "Hangup", { CallStatus: "busy" }, true],
    ["call.failed", "Hangup", { CallStatus: "no-answer" }, true],
    ["call.failed", "Hangup", { CallStatus: "cancel" }, true],
    ["call.failed", "Hangup", { CallStatus: "completed" }, false],
    ["call_end", "StartApp", {}, false],
  ];
  for (const [name, type, payload, expected] of cases) {
    assert.equal(
      matchesEventName(name, type, payload),
      expected,
      `${name} vs ${type} ${JSON.stringify(payload)}`,
    );
  }
});

test("aliases expand to the concrete types used to index rules", () => {
  assert.deepEqual(typesForName("Call_Start"), ["callinitiated", "ring"]);
  assert.deepEqual(typesForName("Hangup"), ["hangup"]);
  assert.deepEqual(typesForName("*"), ["*"]);
});

test("a request with no Event but a HangupCause (the hangup_url example of the Applications page) is a Hangup", () => {
  assert.equal(
    resolveEventType({
      CallUUID: "abc123",
      CallStatus: "completed",
      Duration: "45",
      HangupCause: "NORMAL_CLEARING",
    }),
    "Hangup",
  );
  assert.equal(resolveEventType({ Event: "DialHangup", HangupCause: "x" }), "DialHangup", "Event still wins");
});
