import assert from "node:assert/strict";
import { test } from "node:test";
import { buildContext } from "../../../server/events/build-context.ts";
import { toE164 } from "../../../server/events/phone-number.ts";
import { redactPayload } from "../../../server/events/redact-payload.ts";

const OPTIONS = { defaultCountry: "IN", publicUrl: "https://sb.example.com", accountId: "MA_ACCOUNT" };

test("payload fields as received, computed fields, and meta", () => {
  const context = buildContext(
    {
      id: "evt_1",
      route: "events",
      path: "/events/vobiz",
      query: { app: "support", tenant: "42" },
      receivedAt: "2025-01-06T10:00:00.000Z",
      payload: {
        Event: "Hangup",
        From: "917983165036",
        To: "07971442086",
        CallUUID: "abc",
        CallStatus: "completed",
        BillDuration: "60",
        Direction: "inbound",
      },
    },
    OPTIONS,
  );
  assert.equal(context.From, "917983165036");
  assert.equal(context.caller, "917983165036");
  assert.equal(context.callee, "07971442086");
  assert.equal(context.caller_e164, "+917983165036");
  assert.equal(context.callee_e164, "+917971442086");
  assert.equal(context.status, "completed");
  assert.equal(context.id, "abc");
  assert.equal(context.billsec, "60");
  assert.equal(context.call_type, "inbound");
  assert.equal(context.keypress, undefined);
  assert.deepEqual(context.meta, {
    id: "evt_1",
    type: "Hangup",
    receivedAt: "2025-01-06T10:00:00.000Z",
    route: "events",
    path: "/events/vobiz",
    query: { app: "support", tenant: "42" },
    scope: { account: "MA_ACCOUNT", app: "support", trunk: null, call: null },
    public_url: "https://sb.example.com",
    attempt: 1,
  });
});

test("a replay's meta says which event it replays and counts its run (the original is 1)", () => {
  const context = buildContext(
    {
      id: "evt_2",
      route: "events",
      path: "/events",
      query: {},
      receivedAt: "2025-01-06T10:00:00.000Z",
      payload: { Event: "Hangup" },
      replay: { of: "evt_1", attempt: 2 },
    },
    { defaultCountry: "IN", publicUrl: "https://sb.example.com" },
  );
  assert.equal(context.meta.attempt, 2);
  assert.equal(context.meta.replayOf, "evt_1");
});

test("a payload field wins over a computed field of the same name", () => {
  const context = buildContext(
    {
      id: "e",
      route: "answer",
      path: "/answer",
      query: {},
      receivedAt: "t",
      payload: { From: "1", caller: "mine", id: "x" },
    },
    OPTIONS,
  );
  assert.equal(context.caller, "mine");
  assert.equal(context.id, "x");
});

test("E.164 from what Vobiz sends", () => {
  assert.equal(toE164("+14155551234", "IN"), "+14155551234");
  assert.equal(toE164("14155551234", "IN"), "+14155551234");
  assert.equal(toE164("919876543210", "IN"), "+919876543210");
  assert.equal(toE164("09876543210", "IN"), "+919876543210");
  assert.equal(toE164("9876543210", "IN"), "+919876543210");
  assert.equal(toE164("sip:alice@example.com", "IN"), "");
  assert.equal(toE164("anonymous", "IN"), "");
  assert.equal(toE164("", "IN"), "");
  assert.equal(toE164(undefined, "IN"), "");
});

test("payload redaction for traces: credential-like names and configured secret values", () => {
  const redacted = redactPayload(
    {
      From: "1",
      api_key: "k",
      nested: { AuthToken: "t", note: "super-secret-value" },
      list: ["super-secret-value", "ok"],
    },
    new Set(["super-secret-value"]),
  );
  assert.deepEqual(redacted, {
    From: "1",
    api_key: "[redacted]",
    nested: { AuthToken: "[redacted]", note: "[redacted]" },
    list: ["[redacted]", "ok"],
  });
});
