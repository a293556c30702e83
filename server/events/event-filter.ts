/**
 * Which recorded events an admin request means (SPEC §7): `type`, `rule`, `status`, `CallUUID`, `since`,
 * `until`, the same for the list, the export and bulk replay. `scanEvents` reads them newest first, a
 * page of traces at a time: a call's events from the calls' index (call-index.ts), the others from the
 * time index within the window.
 */
import type { Redis } from "ioredis";
import { AppError } from "../errors.ts";
import { eventsOfCall } from "./call-index.ts";
import { eventView, type EventView } from "./event-view.ts";
import { traceKeys } from "./trace-keys.ts";
import type { Trace } from "./trace-format.ts";
import { readTraces } from "./trace-store.ts";

export interface EventFilter {
  /** lower case */
  type?: string;
  rule?: string;
  status?: "ok" | "failed" | "pending";
  callUuid?: string;
  /** epoch ms, inclusive */
  since?: number;
  /** epoch ms, inclusive */
  until?: number;
}

const text = (value: unknown): string | undefined =>
  typeof value === "string" && value !== "" ? value : undefined;

function time(name: string, value: unknown): number | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  const ms = typeof value === "string" ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms))
    throw new AppError(
      "ADMIN_BODY_INVALID",
      `"${name}" must be an ISO 8601 time such as 2025-01-06T10:00:00Z`,
    );
  return ms;
}

/** The filter in a query string or a JSON body; a bad value is ADMIN_BODY_INVALID saying what to send. */
export function parseEventFilter(source: Readonly<Record<string, unknown>>): EventFilter {
  const filter: EventFilter = {};
  for (const name of ["type", "rule", "status", "CallUUID"]) {
    const value = source[name];
    if (value !== undefined && value !== "" && typeof value !== "string")
      throw new AppError("ADMIN_BODY_INVALID", `"${name}" must be a string`);
  }
  const type = text(source.type)?.toLowerCase();
  if (type !== undefined) filter.type = type;
  const rule = text(source.rule);
  if (rule !== undefined) filter.rule = rule;
  const callUuid = text(source.CallUUID);
  if (callUuid !== undefined) filter.callUuid = callUuid;
  const status = text(source.status);
  if (status !== undefined) {
    if (status !== "ok" && status !== "failed" && status !== "pending")
      throw new AppError("ADMIN_BODY_INVALID", '"status" must be ok, failed or pending');
    filter.status = status;
  }
  const since = time("since", source.since);
  if (since !== undefined) filter.since = since;
  const until = time("until", source.until);
  if (until !== undefined) filter.until = until;
  if (since !== undefined && until !== undefined && until < since)
    throw new AppError("ADMIN_BODY_INVALID", '"until" must not be before "since"');
  return filter;
}

/** Whether an event's view passes the filter (its time is the index's business, but checked here too). */
export function matchesFilter(view: EventView, filter: EventFilter): boolean {
  if (filter.type !== undefined && view.type?.toLowerCase() !== filter.type) return false;
  if (filter.status !== undefined && view.status !== filter.status) return false;
  if (
    filter.callUuid !== undefined &&
    (view.payload as Record<string, unknown> | null)?.CallUUID !== filter.callUuid
  )
    return false;
  if (filter.rule !== undefined && !(view.matches as Array<{ id: string }>).some((m) => m.id === filter.rule))
    return false;
  const at = Date.parse(view.receivedAt);
  if (filter.since !== undefined && at < filter.since) return false;
  if (filter.until !== undefined && at > filter.until) return false;
  return true;
}

export interface ScannedEvent {
  id: string;
  trace: Trace;
  view: EventView;
}

export interface ScanOptions {
  retentionMs: number;
  describe?: (rule: string) => string | undefined;
  /** traces read per round trip */
  page?: number;
}

/**
 * The events that pass the filter, newest first, read a page at a time (nothing is held beyond a page).
 * The window's end is fixed when the scan starts, so events arriving meanwhile do not shift the pages.
 */
export async function* scanEvents(
  redis: Redis,
  prefix: string,
  filter: EventFilter,
  options: ScanOptions,
): AsyncGenerator<ScannedEvent> {
  const page = options.page ?? 200;
  const keys = traceKeys(prefix);
  const pass = async function* (ids: string[]): AsyncGenerator<ScannedEvent> {
    const traces = await readTraces(redis, prefix, ids);
    for (const [index, id] of ids.entries()) {
      const trace = traces[index];
      if (trace === undefined) continue; // expired
      const view = eventView(id, trace, options.describe);
      if (matchesFilter(view, filter)) yield { id, trace, view };
    }
  };
  if (filter.callUuid !== undefined) {
    const ids = await eventsOfCall(redis, prefix, filter.callUuid, options.retentionMs);
    for (let start = 0; start < ids.length; start += page) yield* pass(ids.slice(start, start + page));
    return;
  }
  const max = Math.min(filter.until ?? Number.POSITIVE_INFINITY, Date.now());
  const min = filter.since ?? "-inf";
  // offsets from the newest: new events land above `max`, trimming removes the oldest: neither shifts them
  for (let offset = 0; ; offset += page) {
    const ids = await redis.zrevrangebyscore(keys.index, max, min, "LIMIT", offset, page);
    yield* pass(ids);
    if (ids.length < page) return;
  }
}
