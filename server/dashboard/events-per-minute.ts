/**
 * Events per minute by type and by outcome, for the dashboard's chart, computed from what is already
 * stored (nothing is added to the ingest path): the time index gives each minute's exact count (one
 * ZCOUNT per minute, pipelined), and the newest `sample` events of the window are read to split the
 * minutes by type and outcome (`ok`, `failed`, `pending`, as GET /admin/events says). When the window
 * holds more events than that, the split covers the newest ones and `sampled` says how many.
 */
import type { Redis } from "ioredis";
import { eventView, type EventStatus } from "../events/event-view.ts";
import { traceKeys } from "../events/trace-keys.ts";
import { readTraces } from "../events/trace-store.ts";

export interface MinuteCount {
  /** the minute's start */
  at: string;
  /** every event of the minute (from the time index) */
  total: number;
  byType: Record<string, number>;
  byOutcome: Record<EventStatus, number>;
}

export interface EventsPerMinute {
  minutes: MinuteCount[];
  /** events of the window read for the split by type and outcome, and all events in the window */
  sampled: number;
  total: number;
}

export interface EventSample {
  at: number;
  type: string;
  outcome: EventStatus;
}

const MINUTE = 60_000;

/** Pure: puts each sample in its minute; `totals` are the index's counts per minute, oldest first. */
export function bucketEvents(
  samples: readonly EventSample[],
  totals: readonly number[],
  now: number,
): MinuteCount[] {
  const first = Math.floor(now / MINUTE) * MINUTE - (totals.length - 1) * MINUTE;
  const minutes: MinuteCount[] = totals.map((total, index) => ({
    at: new Date(first + index * MINUTE).toISOString(),
    total,
    byType: {},
    byOutcome: { ok: 0, failed: 0, pending: 0 },
  }));
  for (const sample of samples) {
    const minute = minutes[Math.floor((sample.at - first) / MINUTE)];
    if (minute === undefined) continue;
    minute.byType[sample.type] = (minute.byType[sample.type] ?? 0) + 1;
    minute.byOutcome[sample.outcome] += 1;
  }
  return minutes;
}

export async function eventsPerMinute(
  redis: Redis,
  prefix: string,
  options: { now?: number; minutes?: number; sample?: number } = {},
): Promise<EventsPerMinute> {
  const now = options.now ?? Date.now();
  const count = options.minutes ?? 60;
  const sample = options.sample ?? 2000;
  const { index } = traceKeys(prefix);
  const first = Math.floor(now / MINUTE) * MINUTE - (count - 1) * MINUTE;
  const pipeline = redis.pipeline();
  for (let i = 0; i < count; i += 1)
    pipeline.zcount(index, first + i * MINUTE, `(${first + (i + 1) * MINUTE}`);
  const totals = ((await pipeline.exec()) ?? []).map(([, value]) => Number(value ?? 0));
  const flat = await redis.zrevrangebyscore(index, "+inf", first, "WITHSCORES", "LIMIT", 0, sample);
  const samples: EventSample[] = [];
  for (let start = 0; start < flat.length; start += 400) {
    const chunk = flat.slice(start, start + 400);
    const ids = chunk.filter((_, i) => i % 2 === 0);
    const traces = await readTraces(redis, prefix, ids);
    for (const [i, id] of ids.entries()) {
      const trace = traces[i];
      if (trace === undefined) continue;
      const view = eventView(id, trace);
      samples.push({ at: Number(chunk[i * 2 + 1]), type: view.type ?? "unknown", outcome: view.status });
    }
  }
  return {
    minutes: bucketEvents(samples, totals, now),
    sampled: samples.length,
    total: totals.reduce((a, b) => a + b, 0),
  };
}
