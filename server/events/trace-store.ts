/**
 * Updates to an event's trace (SPEC §7 `GET /admin/events/:id`). The claim script creates the trace with
 * its retention; updates never create one (so nothing is written without a TTL).
 */
import type { Redis } from "ioredis";
import type { EventJobData } from "../queue/job-types.ts";
import { payloadOf, type Payload } from "./parse-payload.ts";
import { traceKeys } from "./trace-keys.ts";

/** The event as a trace records it: the job data, or a copy with the payload redacted and no raw text. */
export type TracedEvent = EventJobData & { payload?: Payload };

export function tracedEvent(trace: Readonly<Record<string, string>>): TracedEvent {
  return JSON.parse(trace.event ?? "{}") as TracedEvent;
}

/** A trace's payload: parsed from the raw text, or the redacted copy when it held secrets. */
export function tracePayload(trace: Readonly<Record<string, string>>): Payload {
  const event = tracedEvent(trace);
  return event.payload ?? payloadOf(event);
}

const UPDATE_IF_EXISTS = `
if redis.call("EXISTS", KEYS[1]) == 0 then return 0 end
redis.call("HSET", KEYS[1], unpack(ARGV))
return 1`;

export interface TraceStore {
  /** sets fields on an existing trace; false when the trace has expired or never existed */
  update(id: string, fields: Record<string, string>): Promise<boolean>;
  get(id: string): Promise<Record<string, string> | undefined>;
  /** one field of a trace */
  field(id: string, name: string): Promise<string | undefined>;
}

export function createTraceStore(redis: Redis, prefix: string): TraceStore {
  const keys = traceKeys(prefix);
  redis.defineCommand("switchboardUpdateTrace", { numberOfKeys: 1, lua: UPDATE_IF_EXISTS });
  const update = (redis as unknown as Record<string, (...args: string[]) => Promise<number>>)
    .switchboardUpdateTrace;
  if (update === undefined) throw new Error("trace update script not defined");
  return {
    async update(id, fields) {
      const args = Object.entries(fields).flat();
      return (await update.call(redis, keys.trace(id), ...args)) === 1;
    },
    async field(id, name) {
      return (await redis.hget(keys.trace(id), name)) ?? undefined;
    },
    async get(id) {
      const trace = await redis.hgetall(keys.trace(id));
      return Object.keys(trace).length === 0 ? undefined : trace;
    },
  };
}
