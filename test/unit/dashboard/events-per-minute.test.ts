import assert from "node:assert/strict";
import { test } from "node:test";
import { bucketEvents } from "../../../server/dashboard/events-per-minute.ts";

const NOW = Date.parse("2026-01-05T10:30:20Z");

test("each event lands in its minute by type and outcome; the index's totals are kept as they are", () => {
  const minutes = bucketEvents(
    [
      { at: Date.parse("2026-01-05T10:30:05Z"), type: "Hangup", outcome: "ok" },
      { at: Date.parse("2026-01-05T10:30:10Z"), type: "Hangup", outcome: "failed" },
      { at: Date.parse("2026-01-05T10:28:59.999Z"), type: "StartApp", outcome: "pending" },
      { at: Date.parse("2026-01-05T10:20:00Z"), type: "Hangup", outcome: "ok" }, // before the window
    ],
    [1, 0, 5],
    NOW,
  );
  assert.deepEqual(
    minutes.map((m) => m.at),
    ["2026-01-05T10:28:00.000Z", "2026-01-05T10:29:00.000Z", "2026-01-05T10:30:00.000Z"],
  );
  assert.deepEqual(minutes[2], {
    at: "2026-01-05T10:30:00.000Z",
    total: 5,
    byType: { Hangup: 2 },
    byOutcome: { ok: 1, failed: 1, pending: 0 },
  });
  assert.deepEqual(minutes[0]?.byType, { StartApp: 1 });
  assert.deepEqual(minutes[0]?.byOutcome, { ok: 0, failed: 0, pending: 1 });
  assert.deepEqual(minutes[1]?.byType, {});
});
