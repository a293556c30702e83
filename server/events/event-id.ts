import { monotonicFactory } from "ulid";

const next = monotonicFactory();

/** `evt_` + a ULID: unique, and sortable by time even within one millisecond. */
export function newEventId(now = Date.now()): string {
  return `evt_${next(now)}`;
}
