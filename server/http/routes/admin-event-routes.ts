/**
 * Events (SPEC §7): `GET /admin/events` (newest first; filters `type`, `CallUUID`, `status`, `rule`,
 * `since`; cursor pages) and `GET /admin/events/:id` (the whole trace). Reads the time index and the
 * traces; a page reads at most a few hundred traces however selective the filters are, and says where
 * to go on with `next`.
 */
import { Readable } from "node:stream";
import Router from "@koa/router";
import type { Redis } from "ioredis";
import { AppError } from "../../errors.ts";
import { eventsOfCall } from "../../events/call-index.ts";
import { matchesFilter, parseEventFilter, type EventFilter } from "../../events/event-filter.ts";
import { exportLines } from "../../events/event-export.ts";
import { eventView, type EventView } from "../../events/event-view.ts";
import { traceKeys } from "../../events/trace-keys.ts";
import { readTraces } from "../../events/trace-store.ts";
import { validateRequest } from "../admin-api.ts";
import { adminAuth } from "../middleware/admin-auth.ts";
import type { RequestState } from "../middleware/request-context.ts";

export interface AdminEventDeps {
  adminToken: string;
  redis: Redis;
  prefix: string;
  /** EVENT_RETENTION: how far back the calls' index is read */
  retentionMs: number;
  /** a rule's description in the loaded ruleset */
  describe?: (rule: string) => string | undefined;
}

const text = (value: unknown): string | undefined =>
  typeof value === "string" && value !== "" ? value : undefined;

/**
 * A call's events (the calls' index, not a scan of the time index), newest first, from the cursor on;
 * the cursor is the list's own ("<ms>:<id>"), and ids sort by time, so "older than the cursor's id".
 */
async function callPage(
  deps: AdminEventDeps,
  filter: EventFilter,
  limit: number,
  cursor: string | undefined,
): Promise<{ items: EventView[]; next: string | null }> {
  const after = cursor?.split(":").slice(1).join(":");
  const items: EventView[] = [];
  const ids = await eventsOfCall(deps.redis, deps.prefix, filter.callUuid ?? "", deps.retentionMs);
  const rest = after === undefined || after === "" ? ids : ids.filter((id) => id < after);
  for (let start = 0; start < rest.length && items.length < limit; start += 100) {
    const page = rest.slice(start, start + 100);
    const traces = await readTraces(deps.redis, deps.prefix, page);
    for (const [index, id] of page.entries()) {
      const trace = traces[index];
      if (trace === undefined) continue;
      const view = eventView(id, trace, deps.describe);
      if (!matchesFilter(view, filter)) continue;
      items.push(view);
      if (items.length === limit) {
        const more = start + index + 1 < rest.length;
        return { items, next: more ? `${Date.parse(view.receivedAt)}:${id}` : null };
      }
    }
  }
  return { items, next: null };
}

export function adminEventRoutes(deps: AdminEventDeps): Router<RequestState> {
  const keys = traceKeys(deps.prefix);
  const router = new Router<RequestState>({ prefix: "/admin/events" });
  router.use(adminAuth(deps.adminToken), validateRequest);

  router.get("/", async (ctx) => {
    const limit = Math.min(Math.max(Number(ctx.query.limit ?? 50) || 50, 1), 200);
    const type = text(ctx.query.type)?.toLowerCase();
    const callUuid = text(ctx.query.CallUUID);
    const status = text(ctx.query.status);
    const rule = text(ctx.query.rule);
    const since = text(ctx.query.since);
    if (status !== undefined && !["ok", "failed", "pending"].includes(status)) {
      throw new AppError("ADMIN_BODY_INVALID", '"status" must be ok, failed or pending');
    }
    const sinceMs = since === undefined ? "-inf" : Date.parse(since);
    if (Number.isNaN(sinceMs)) throw new AppError("ADMIN_BODY_INVALID", '"since" must be an ISO 8601 time');
    if (callUuid !== undefined) {
      ctx.body = await callPage(deps, parseEventFilter(ctx.query), limit, text(ctx.query.cursor));
      return;
    }
    // the cursor is "<score>:<id>" of the last event read; ties (same millisecond) are ordered by id
    const [cursorScore, cursorId] = (text(ctx.query.cursor) ?? "").split(":");
    let max = cursorScore === undefined || cursorScore === "" ? "+inf" : cursorScore;
    let after = cursorId;
    const items: EventView[] = [];
    let read = 0;
    let last: string | undefined;
    let exhausted = false;
    while (items.length < limit && read < 1000 && !exhausted) {
      const flat = await deps.redis.zrevrangebyscore(keys.index, max, sinceMs, "WITHSCORES", "LIMIT", 0, 100);
      const page: Array<[string, string]> = [];
      for (let i = 0; i < flat.length; i += 2) page.push([flat[i] ?? "", flat[i + 1] ?? ""]);
      const fresh = page.filter(([id, score]) => !(score === max && after !== undefined && id >= after));
      exhausted = page.length < 100;
      if (fresh.length === 0) {
        if (page.length < 100) break;
        max = `(${max}`; // over 100 events in the cursor's millisecond: go on past it
        after = undefined;
        continue;
      }
      const traces = await readTraces(
        deps.redis,
        deps.prefix,
        fresh.map(([id]) => id),
      );
      for (const [index, [id, score]] of fresh.entries()) {
        read += 1;
        max = score;
        after = id;
        last = `${score}:${id}`;
        const trace = traces[index];
        if (trace === undefined) continue;
        const view = eventView(id, trace, deps.describe);
        if (type !== undefined && view.type?.toLowerCase() !== type) continue;
        if (status !== undefined && view.status !== status) continue;
        if (callUuid !== undefined && (view.payload as Record<string, unknown> | null)?.CallUUID !== callUuid)
          continue;
        if (rule !== undefined && !(view.matches as Array<{ id: string }>).some((match) => match.id === rule))
          continue;
        items.push(view);
        if (items.length === limit) {
          exhausted = index === fresh.length - 1 && exhausted;
          break;
        }
      }
    }
    ctx.body = { items, next: exhausted && items.length < limit ? null : (last ?? null) };
  });

  // before "/:id": the export is not an event
  router.get("/export", (ctx) => {
    const filter = parseEventFilter(ctx.query);
    const lines = exportLines(deps.redis, deps.prefix, filter, {
      retentionMs: deps.retentionMs,
      ...(deps.describe === undefined ? {} : { describe: deps.describe }),
    });
    ctx.type = "application/x-ndjson";
    // streamed: a page of traces at a time, as fast as the client reads
    ctx.body = Readable.from(lines, { objectMode: false });
  });

  router.get("/:id", async (ctx) => {
    const id = ctx.params.id ?? "";
    const [trace] = await readTraces(deps.redis, deps.prefix, [id]);
    if (trace === undefined)
      throw new AppError("NOT_FOUND", `No event "${id}" (traces are kept for EVENT_RETENTION).`);
    ctx.body = eventView(id, trace, deps.describe);
  });
  return router;
}
