import { randomBytes } from "node:crypto";
import { monotonicFactory } from "ulid";

/**
 * ULIDs from a pooled random buffer: ulid's default generator asks the OS for one byte per character
 * (16 calls per id), which showed up as the largest single cost of a request in the ingest benchmark.
 */
let pool = randomBytes(8192);
let offset = 0;
function pooledRandom(): number {
  if (offset >= pool.length) {
    pool = randomBytes(8192);
    offset = 0;
  }
  const byte = pool[offset] ?? 0;
  offset += 1;
  return byte / 256;
}

const nextUlid = monotonicFactory(pooledRandom);

/** `evt_` + a ULID: unique, and sortable by time even within one millisecond. */
export function newEventId(now = Date.now()): string {
  return `evt_${nextUlid(now)}`;
}

/** A request id (a bare ULID). */
export function newRequestId(): string {
  return nextUlid();
}
