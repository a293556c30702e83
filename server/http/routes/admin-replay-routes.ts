/**
 * Replay (SPEC §7, issue 17): `POST /admin/events/:id/replay` runs one recorded event again under the
 * current ruleset (202 `{"id", "replayOf", "attempt"}`); `POST /admin/replays` replays every event a
 * filter selects (`type`, `rule`, `status`, `CallUUID`, `since`, `until`; `dry_run` counts them) through
 * the paced replay queue, and `GET /admin/replays/:id` reads its progress.
 */
import Router from "@koa/router";
import type { Redis } from "ioredis";
import { AppError } from "../../errors.ts";
import { parseEventFilter, scanEvents } from "../../events/event-filter.ts";
import type { Replayer } from "../../events/replay-event.ts";
import { newRequestId } from "../../ids.ts";
import type { ReplayQueue } from "../../queue/replay-queue.ts";
import { validateRequest } from "../admin-api.ts";
import { adminAuth } from "../middleware/admin-auth.ts";
import type { RequestState } from "../middleware/request-context.ts";
import { readJsonBody } from "../read-json-body.ts";

export interface AdminReplayDeps {
  adminToken: string;
  redis: Redis;
  prefix: string;
  retentionMs: number;
  replay: Replayer;
  replays: Pick<ReplayQueue, "start" | "progress">;
}

const FILTER_FIELDS = ["type", "rule", "status", "CallUUID", "since", "until"];

function flag(body: Record<string, unknown>, name: string): boolean {
  const value = body[name];
  if (value !== undefined && typeof value !== "boolean")
    throw new AppError("ADMIN_BODY_INVALID", `"${name}" must be true or false`);
  return value === true;
}

export function adminReplayRoutes(deps: AdminReplayDeps): Router<RequestState> {
  const router = new Router<RequestState>({ prefix: "/admin" });
  router.use(adminAuth(deps.adminToken), validateRequest);

  router.post("/events/:id/replay", async (ctx) => {
    const body = await readJsonBody(ctx);
    const unknown = Object.keys(body).filter((name) => name !== "vobiz");
    if (unknown.length > 0)
      throw new AppError(
        "ADMIN_BODY_INVALID",
        `unknown field(s) ${unknown.join(", ")}; the body takes "vobiz"`,
      );
    const result = await deps.replay(ctx.params.id ?? "", {
      vobiz: flag(body, "vobiz"),
      requestId: ctx.state.requestId,
    });
    ctx.status = 202;
    ctx.body = result;
  });

  router.post("/replays", async (ctx) => {
    const body = await readJsonBody(ctx);
    const unknown = Object.keys(body).filter(
      (name) => !FILTER_FIELDS.includes(name) && name !== "dry_run" && name !== "vobiz",
    );
    if (unknown.length > 0) {
      throw new AppError(
        "ADMIN_BODY_INVALID",
        `unknown field(s) ${unknown.join(", ")}; the body takes ${[...FILTER_FIELDS, "dry_run", "vobiz"].join(", ")}`,
      );
    }
    const filter = parseEventFilter(body);
    const dryRun = flag(body, "dry_run");
    const vobiz = flag(body, "vobiz");
    const ids: string[] = [];
    for await (const { id } of scanEvents(deps.redis, deps.prefix, filter, { retentionMs: deps.retentionMs }))
      ids.push(id);
    const given = Object.fromEntries(FILTER_FIELDS.filter((name) => name in body).map((n) => [n, body[n]]));
    if (dryRun) {
      ctx.body = { dry_run: true, count: ids.length, filter: given };
      return;
    }
    ctx.status = 202;
    ctx.body = await deps.replays.start(`rpl_${newRequestId()}`, ids, { vobiz, filter: given });
  });

  router.get("/replays/:id", async (ctx) => {
    const id = ctx.params.id ?? "";
    const progress = await deps.replays.progress(id);
    if (progress === undefined)
      throw new AppError("NOT_FOUND", `No bulk replay "${id}" (their progress is kept for 7 days).`);
    ctx.body = progress;
  });
  return router;
}
