/** Reading an event's trace in tests: as stored (trace-format.ts) and as the admin API shows it. */
import type { Redis } from "ioredis";
import { eventView, type EventView } from "../../server/events/event-view.ts";
import { DECISION_MARK, parseTrace, type Trace } from "../../server/events/trace-format.ts";

/** the trace's lines merged; {} when there is none */
export async function rawTrace(redis: Redis, prefix: string, id: string): Promise<Trace> {
  return parseTrace(await redis.get(`${prefix}:trace:${id}`)) ?? {};
}

export async function readTrace(redis: Redis, prefix: string, id: string): Promise<EventView> {
  return eventView(id, await rawTrace(redis, prefix, id));
}

/** true once the event's decision is recorded */
export async function isDecided(redis: Redis, prefix: string, id: string): Promise<boolean> {
  return ((await redis.get(`${prefix}:trace:${id}`)) ?? "").includes(DECISION_MARK);
}

/** "received", "dispatched" (the decision is recorded), or null when there is no trace */
export async function traceState(redis: Redis, prefix: string, id: string): Promise<string | null> {
  const text = await redis.get(`${prefix}:trace:${id}`);
  if (text === null) return null;
  return text.includes(DECISION_MARK) ? "dispatched" : "received";
}

/** the first action of `rule` in the trace (state, attempts) */
export async function traceAction(
  redis: Redis,
  prefix: string,
  id: string,
  rule: string,
): Promise<EventView["actions"][number] | undefined> {
  return (await readTrace(redis, prefix, id)).actions.find((action) => action.rule === rule);
}
