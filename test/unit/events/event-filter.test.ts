import assert from "node:assert/strict";
import { test } from "node:test";
import { isAppError } from "../../../server/errors.ts";
import { matchesFilter, parseEventFilter } from "../../../server/events/event-filter.ts";
import type { EventView } from "../../../server/events/event-view.ts";

const view = (fields: Partial<EventView>): EventView =>
  ({
    id: "evt_1",
    type: "Hangup",
    status: "ok",
    receivedAt: "2025-01-06T10:00:00.000Z",
    payload: { CallUUID: "call-1" },
    matches: [{ id: "crm" }],
    ...fields,
  }) as EventView;

test("the filter reads type (any case), rule, status, CallUUID and an ISO window", () => {
  const filter = parseEventFilter({
    type: "hangup",
    rule: "crm",
    status: "ok",
    CallUUID: "call-1",
    since: "2025-01-06T09:00:00Z",
    until: "2025-01-06T11:00:00Z",
  });
  assert.ok(matchesFilter(view({}), filter));
  assert.ok(!matchesFilter(view({ type: "StartApp" }), filter));
  assert.ok(!matchesFilter(view({ status: "failed" }), filter));
  assert.ok(!matchesFilter(view({ matches: [{ id: "other" }] }), filter));
  assert.ok(!matchesFilter(view({ payload: { CallUUID: "call-2" } }), filter));
  assert.ok(!matchesFilter(view({ receivedAt: "2025-01-06T08:59:59.999Z" }), filter));
  assert.ok(!matchesFilter(view({ receivedAt: "2025-01-06T11:00:00.001Z" }), filter));
  assert.ok(matchesFilter(view({ type: "StartApp", status: "failed" }), {}), "no filter passes everything");
});

test("a bad filter value is ADMIN_BODY_INVALID naming the field and what to send", () => {
  const refused = (source: Record<string, unknown>, message: RegExp): void => {
    assert.throws(
      () => parseEventFilter(source),
      (error) => isAppError(error) && error.code === "ADMIN_BODY_INVALID" && message.test(error.message),
    );
  };
  refused({ status: "done" }, /"status" must be ok, failed or pending/);
  refused({ since: "yesterday" }, /"since" must be an ISO 8601 time/);
  refused({ since: "2025-01-06T11:00:00Z", until: "2025-01-06T10:00:00Z" }, /"until" must not be before/);
  refused({ type: 5 }, /"type" must be a string/);
});
