/**
 * Finding a call's events without a scan (SPEC §7 `GET /admin/events?CallUUID=`): the claim adds each
 * event's id to the calls' index of its day (a hash of call → ids, trace-keys.ts `calls`), which expires a
 * retention after the day ends; a look-up reads the days the retention covers, one round trip. Kept small
 * (it is paid per retained event): the field is 72 bits of the CallUUID's SHA-256, the ids lose their
 * `evt_`; a look-up returns every id under the field, and the caller checks each event's CallUUID (a
 * collision costs a trace read, never a wrong answer).
 */
import { hash } from "node:crypto";
import type { Redis } from "ioredis";
import type { ClaimCall } from "../queue/scripts.ts";
import type { Payload } from "./parse-payload.ts";
import { traceKeys } from "./trace-keys.ts";

const DAY_MS = 86_400_000;

const dayOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

const fieldOf = (call: string): string => hash("sha256", call, "base64url").slice(0, 12);

const ID_PREFIX = "evt_";

/** the event id as the index keeps it */
export const indexedId = (id: string): string => (id.startsWith(ID_PREFIX) ? id.slice(ID_PREFIX.length) : id);

/**
 * Where the claim indexes an event of a call: `entry(...)` is undefined when the payload names no call.
 * Made once per prefix: the request path calls it per event (the day's key is worked out once a day).
 */
export function callIndexer(prefix: string, retentionMs: number) {
  const keys = traceKeys(prefix);
  let day = -1;
  let key = "";
  return function entry(eventId: string, payload: Payload, receivedMs: number): ClaimCall["callIndex"] {
    const call = payload.CallUUID;
    if (typeof call !== "string" || call === "") return undefined;
    const dayNumber = Math.floor(receivedMs / DAY_MS);
    if (dayNumber !== day) {
      day = dayNumber;
      key = keys.calls(dayOf(receivedMs));
    }
    return {
      key,
      field: fieldOf(call),
      member: indexedId(eventId),
      expireAt: (dayNumber + 1) * DAY_MS + retentionMs,
    };
  };
}

/** The ids of a call's events within the retention, newest first (ids sort by receive time). */
export async function eventsOfCall(
  redis: Redis,
  prefix: string,
  call: string,
  retentionMs: number,
  now = Date.now(),
): Promise<string[]> {
  const keys = traceKeys(prefix);
  const pipeline = redis.pipeline();
  for (let day = Math.floor((now - retentionMs) / DAY_MS); day <= Math.floor(now / DAY_MS); day += 1)
    pipeline.hget(keys.calls(dayOf(day * DAY_MS)), fieldOf(call));
  const replies = (await pipeline.exec()) ?? [];
  const ids = new Set<string>();
  for (const [error, value] of replies) {
    if (error) throw error;
    if (typeof value === "string")
      for (const id of value.split(" ")) if (id !== "") ids.add(`${ID_PREFIX}${id}`);
  }
  return [...ids].sort().reverse();
}
