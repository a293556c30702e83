import assert from "node:assert/strict";
import { test } from "node:test";
import { chartLayout, OUTCOME_COLORS } from "../../../server/dashboard/chart-layout.ts";
import type { MinuteCount } from "../../../server/dashboard/events-per-minute.ts";

const minute = (at: string, byType: Record<string, number>, ok: number, failed: number): MinuteCount => ({
  at,
  total: ok + failed,
  byType,
  byOutcome: { ok, failed, pending: 0 },
});
const minutes = [
  minute("2026-01-05T10:00:00.000Z", { Hangup: 3, StartApp: 1 }, 3, 1),
  minute("2026-01-05T10:01:00.000Z", {}, 0, 0),
  minute("2026-01-05T10:02:00.000Z", { Hangup: 2 }, 1, 1),
];

test("by outcome: stacked bars scaled to the busiest minute, one per non-zero outcome, coloured by outcome", () => {
  const layout = chartLayout(minutes, "outcome", { width: 300, height: 100 });
  assert.equal(layout.max, 4);
  const first = layout.bars.filter((bar) => bar.x === 0);
  assert.deepEqual(
    first.map((bar) => [bar.color, bar.height]),
    [
      [OUTCOME_COLORS.ok, 75],
      [OUTCOME_COLORS.failed, 25],
    ],
  );
  assert.equal(first[1]?.y, 0, "the stack reaches the top at the busiest minute");
  assert.equal(layout.bars.filter((bar) => bar.x === 100).length, 0, "an empty minute has no bar");
  assert.match(first[0]?.title ?? "", /^10:00 UTC: 3 ok$/);
  assert.deepEqual(
    layout.legend.map((entry) => [entry.name, entry.count]),
    [
      ["ok", 4],
      ["pending", 0],
      ["failed", 2],
    ],
  );
  assert.deepEqual(
    layout.ticks.map((tick) => [tick.text, tick.anchor]),
    [
      ["10:00", "start"],
      ["10:01", "middle"],
      ["10:02", "end"],
    ],
  );
});

test("by type: the busiest types first; past the palette they are drawn together as 'other'", () => {
  const many: Record<string, number> = {};
  for (let i = 0; i < 10; i += 1) many[`T${i}`] = 20 - i;
  const layout = chartLayout([minute("2026-01-05T10:00:00.000Z", many, 1, 0)], "type");
  assert.deepEqual(
    layout.legend.map((entry) => entry.name),
    ["T0", "T1", "T2", "T3", "T4", "T5", "T6", "T7", "other"],
  );
  assert.equal(layout.legend.at(-1)?.count, 12 + 11, "T8 and T9");
  assert.equal(new Set(layout.bars.map((bar) => bar.color)).size, 9);
});
