/**
 * `POST /api/calls` (SPEC §6.3): places a call through Vobiz Make Call with answer, ring and hangup URLs
 * pointing at this service (`/answer/<flow>?call=<id>`, `/events/calls?call=<id>`), stores the per-call
 * callback settings, and answers `201 {"id", "request_uuid"}`. The call's events are then forwarded to
 * `status_url`, the most specific level of the callback hierarchy.
 */
import Router from "@koa/router";
import type { CallStore } from "../../calls/call-store.ts";
import type { VobizClient } from "../../calls/vobiz-client.ts";
import { AppError } from "../../errors.ts";
import { newEventId } from "../../ids.ts";
import { validateRequest } from "../admin-api.ts";
import { adminAuth } from "../middleware/admin-auth.ts";
import type { RequestState } from "../middleware/request-context.ts";
import { readJsonBody } from "../read-json-body.ts";

export interface ApiCallsDeps {
  adminToken: string;
  publicUrl: string;
  vobiz: VobizClient;
  calls: CallStore;
}

const FLOW_RE = /^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/;
const isUrl = (value: unknown): value is string => {
  if (typeof value !== "string") return false;
  try {
    return ["http:", "https:"].includes(new URL(value).protocol);
  } catch {
    return false;
  }
};

export function apiCallsRoutes(deps: ApiCallsDeps): Router<RequestState> {
  const router = new Router<RequestState>({ prefix: "/api" });
  router.use(adminAuth(deps.adminToken), validateRequest);
  router.post("/calls", async (ctx) => {
    const body = await readJsonBody(ctx);
    const problems: string[] = [];
    const {
      from,
      to,
      flow,
      answer_url: answerUrl,
      status_url: statusUrl,
      status_method: statusMethod,
      status_events: statusEvents,
    } = body;
    if (typeof from !== "string" || from === "")
      problems.push('"from" must be the calling number, such as "+918040001234"');
    if (typeof to !== "string" || to === "") problems.push('"to" must be the number to call');
    if ((flow === undefined) === (answerUrl === undefined))
      problems.push('give exactly one of "flow" (an /answer path such as "support") or "answer_url"');
    if (flow !== undefined && (typeof flow !== "string" || !FLOW_RE.test(flow)))
      problems.push('"flow" must be a path below /answer, such as "support" or "sales/callback"');
    if (answerUrl !== undefined && !isUrl(answerUrl)) problems.push('"answer_url" must be an http(s) URL');
    if (statusUrl !== undefined && !isUrl(statusUrl)) problems.push('"status_url" must be an http(s) URL');
    if (statusMethod !== undefined && statusMethod !== "GET" && statusMethod !== "POST")
      problems.push('"status_method" must be GET or POST');
    if (
      statusEvents !== undefined &&
      (!Array.isArray(statusEvents) || statusEvents.some((e) => typeof e !== "string"))
    ) {
      problems.push(
        '"status_events" must be a list of event types or aliases, such as ["Hangup", "call.failed"]',
      );
    }
    if (problems.length > 0)
      throw new AppError("ADMIN_BODY_INVALID", problems.join("; "), { details: { problems } });

    const id = newEventId().replace(/^evt_/, "call_");
    const events = `${deps.publicUrl}/events/calls?call=${id}`;
    const answer =
      typeof flow === "string" ? `${deps.publicUrl}/answer/${flow}?call=${id}` : (answerUrl as string);
    const { request_uuid } = await deps.vobiz.makeCall({
      from: from as string,
      to: to as string,
      answer_url: answer,
      answer_method: "POST",
      ring_url: events,
      ring_method: "POST",
      hangup_url: events,
      hangup_method: "POST",
    });
    await deps.calls.put({
      id,
      request_uuid,
      from: from as string,
      to: to as string,
      ...(typeof statusUrl === "string" ? { status_url: statusUrl } : {}),
      ...(statusMethod === "GET" || statusMethod === "POST" ? { status_method: statusMethod } : {}),
      ...(Array.isArray(statusEvents) ? { status_events: statusEvents as string[] } : {}),
      createdAt: new Date().toISOString(),
    });
    ctx.status = 201;
    ctx.body = { id, request_uuid };
  });
  return router;
}
