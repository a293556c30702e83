/**
 * Reading and appending to an event's trace (SPEC §7 `GET /admin/events/:id`; the format is
 * trace-format.ts). The claim creates the trace with its retention; appends never create one (so nothing
 * is written without a TTL).
 */
import type { Redis } from "ioredis";
import type { EventJobData } from "../queue/job-types.ts";
import { payloadOf, type Payload } from "./parse-payload.ts";
import { parseTrace, traceLine, type Trace } from "./trace-format.ts";
import { traceKeys } from "./trace-keys.ts";

/** The event as a trace records it: the job data, or a copy with the payload redacted and no raw text. */
export type TracedEvent = EventJobData & { payload?: Payload };

export function tracedEvent(trace: Trace): TracedEvent {
  return (trace.event ?? {}) as TracedEvent;
}

/** A trace's payload: parsed from the raw text, or the redacted copy when it held secrets. */
export function tracePayload(trace: Trace): Payload {
  const event = tracedEvent(trace);
  return event.payload ?? payloadOf(event);
}

// SET of the joined text, not APPEND: APPEND leaves the string room to grow (up to twice its size), which
// a trace kept for days would carry to the end; the TTL is carried over (PTTL, not SET's KEEPTTL, which
// needs Redis 6)
const APPEND_IF_EXISTS = `
local trace = redis.call("GET", KEYS[1])
local ttl = redis.call("PTTL", KEYS[1])
if not trace or ttl <= 0 then return 0 end
redis.call("SET", KEYS[1], trace .. ARGV[1], "PX", ttl)
return 1`;

export interface TraceStore {
  /** appends fields (JSON texts) to an existing trace; false when it has expired or never existed */
  update(id: string, fields: Readonly<Record<string, string>>): Promise<boolean>;
  get(id: string): Promise<Trace | undefined>;
}

export function createTraceStore(redis: Redis, prefix: string): TraceStore {
  const keys = traceKeys(prefix);
  redis.defineCommand("switchboardAppendTrace", { numberOfKeys: 1, lua: APPEND_IF_EXISTS });
  const append = (redis as unknown as Record<string, (key: string, line: string) => Promise<number>>)
    .switchboardAppendTrace;
  if (append === undefined) throw new Error("trace append script not defined");
  return {
    async update(id, fields) {
      const line = traceLine(fields);
      if (line === "") return true;
      return (await append.call(redis, keys.trace(id), `\n${line}`)) === 1;
    },
    async get(id) {
      return parseTrace(await redis.get(keys.trace(id)));
    },
  };
}

/** Reads several traces in one round trip (undefined where one has expired). */
export async function readTraces(
  redis: Redis,
  prefix: string,
  ids: readonly string[],
): Promise<Array<Trace | undefined>> {
  if (ids.length === 0) return [];
  const keys = traceKeys(prefix);
  const texts = await redis.mget(...ids.map((id) => keys.trace(id)));
  return texts.map((text) => parseTrace(text));
}
