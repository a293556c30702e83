/** Reading an event's trace in tests as the admin API shows it (server/events/event-view.ts). */
import type { Redis } from "ioredis";
import { eventView, type EventView } from "../../server/events/event-view.ts";

export async function readTrace(redis: Redis, prefix: string, id: string): Promise<EventView> {
  return eventView(id, await redis.hgetall(`${prefix}:trace:${id}`));
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
