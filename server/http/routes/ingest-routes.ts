/**
 * /events and /answer (and any path below them): verify, read and parse, store, answer. Thin: the work is
 * in signatures/, events/ and the answer builder passed in.
 */
import type { Middleware, ParameterizedContext } from "koa";
import type { Config } from "../../config/load-config.ts";
import { AppError, isAppError } from "../../errors.ts";
import type { Ingest, IngestResult, IncomingEvent } from "../../events/ingest.ts";
import { LIMITS, bodyKind, parseBody, parseForm, type Payload } from "../../events/parse-payload.ts";
import { labelled, typeLabel, type Metrics } from "../../metrics.ts";
import { signatureBaseUrl, verifySignature } from "../../signatures/vobiz-signature.ts";
import type { Answerer } from "../../answer/answer-request.ts";
import { resolveEventType } from "../../events/event-type.ts";
import { newEventId } from "../../ids.ts";
import type { RequestState } from "../middleware/request-context.ts";
import { readRawBody } from "../read-raw-body.ts";

export interface IngestRouteDeps {
  config: Pick<Config, "publicUrl" | "signaturePolicy" | "vobiz">;
  ingest: Ingest;
  metrics: Metrics;
  /** the /answer path: the reply, built in process, and storing the event (journaled when Redis is away) */
  answer: {
    reply: Answerer;
    store(event: IncomingEvent): Promise<IngestResult | "journaled">;
    budgetMs: number;
  };
}

/** How long an /answer reply waits for its event to be stored before it goes anyway. */
const STORE_WAIT_MS = 200;

function logReceived(ctx: Ctx, result: IngestResult, route: string): void {
  ctx.state.baseLog.info(
    {
      requestId: ctx.state.requestId,
      eventId: result.id,
      type: result.type,
      route,
      path: ctx.path,
      duplicate: result.duplicate,
      ...result.decision,
    },
    result.duplicate ? "duplicate delivery" : "event received",
  );
}

/**
 * /answer: the XML is built first, in process; then the event is stored (or journaled) while the reply
 * waits at most STORE_WAIT_MS (or what is left of the budget), so Redis never holds a caller up.
 */
async function answer(
  ctx: Ctx,
  event: IncomingEvent,
  deps: IngestRouteDeps,
  started: number,
  countReply: (outcome: string, reason: string) => void,
): Promise<{ type: string; outcome: string }> {
  const receivedAt = new Date();
  event.id = newEventId(receivedAt.getTime());
  event.receivedAt = receivedAt.toISOString();
  const type = resolveEventType(event.payload);
  const reply = deps.answer.reply({
    id: event.id,
    path: event.path,
    query: event.query,
    payload: event.payload,
    receivedAt: event.receivedAt,
  });
  event.evaluated = reply.evaluated;
  event.answer = JSON.stringify({
    outcome: reply.outcome,
    rule: reply.rule,
    reason: reply.reason,
    error: reply.error,
  });
  // the caller gets its XML whatever happens to the store: a failure is logged, never answered as a 500
  const stored = deps.answer.store(event).catch((error: unknown): "unstored" => {
    if (isAppError(error) && error.code === "SIGNATURE_REPLAYED") throw error; // a refusal, not a failure
    ctx.state.baseLog.error(
      { err: error, eventId: event.id, path: event.path },
      "an answer event could not be stored nor journaled",
    );
    return "unstored";
  });
  const wait = Math.max(0, Math.min(STORE_WAIT_MS, deps.answer.budgetMs - (performance.now() - started)));
  let timer: NodeJS.Timeout | undefined;
  const settled = await Promise.race([
    stored,
    new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), wait))),
  ]);
  clearTimeout(timer);
  let outcome: string;
  if (settled === undefined) {
    outcome = "pending";
    stored.catch(() => undefined); // a late refusal: the reply has gone already
  } else if (settled === "journaled" || settled === "unstored") {
    outcome = settled;
  } else {
    outcome = settled.duplicate ? "duplicate" : "stored";
    if (settled.duplicate) deps.metrics.duplicates.inc({ route: "answer" });
    logReceived(ctx, settled, "answer");
  }
  countReply(reply.outcome, reply.reason ?? "");
  deps.metrics.answerLatency.observe((performance.now() - started) / 1000);
  // which rule answered, or why the default or fallback reply was sent (switchboard simulate shows it)
  ctx.set(
    "X-Switchboard-Reply",
    `${reply.outcome}${reply.rule ? ` ${reply.rule}` : ""}${reply.reason ? `; ${reply.reason}` : ""}`,
  );
  ctx.type = "application/xml; charset=utf-8";
  ctx.body = reply.xml;
  return { type, outcome };
}

type Ctx = ParameterizedContext<RequestState>;

export function routeOf(path: string): "events" | "answer" | undefined {
  for (const route of ["events", "answer"] as const) {
    if (path === `/${route}` || path.startsWith(`/${route}/`)) return route;
  }
  return undefined;
}

export function ingestRoutes(deps: IngestRouteDeps): Middleware<RequestState> {
  const countEvent = labelled(deps.metrics.eventsReceived);
  const countReply = labelled(deps.metrics.answerReplies);
  const latency = {
    events: deps.metrics.ingestLatency.labels("events"),
    answer: deps.metrics.ingestLatency.labels("answer"),
  };
  return async (ctx, next) => {
    const route = routeOf(ctx.path);
    if (route === undefined) {
      await next();
      return;
    }
    const started = performance.now();
    let type = "unknown";
    let outcome = "refused";
    try {
      if (ctx.method !== "GET" && ctx.method !== "POST") {
        ctx.set("Allow", "GET, POST");
        throw new AppError("METHOD_NOT_ALLOWED");
      }
      const verification = verify(ctx, deps);
      const event = await readEvent(ctx, route, verification);
      if (route === "answer") {
        const answered = await answer(ctx, event, deps, started, countReply);
        type = answered.type;
        outcome = answered.outcome;
        return;
      }
      const result = await deps.ingest(event);
      type = result.type;
      outcome = result.duplicate ? "duplicate" : "stored";
      if (result.duplicate) deps.metrics.duplicates.inc({ route });
      latency[route].observe((performance.now() - started) / 1000);
      logReceived(ctx, result, route);
      ctx.body = result.duplicate
        ? { status: "received", id: result.id, duplicate: true }
        : { status: "received", id: result.id };
    } catch (error) {
      if (isAppError(error) && error.code === "QUEUE_UNAVAILABLE") {
        outcome = "unavailable";
        ctx.state.log.error({ err: error.cause, path: ctx.path }, "event store unavailable; answered 503");
      }
      throw error;
    } finally {
      countEvent(route, typeLabel(type), outcome);
    }
  };
}

function verify(ctx: Ctx, deps: IngestRouteDeps): IncomingEvent["verification"] {
  if (deps.config.signaturePolicy === "off") return { result: "skipped" };
  const result = verifySignature({
    baseUrl: signatureBaseUrl(deps.config.publicUrl, ctx.path),
    headers: ctx.headers,
    tokens: {
      current: deps.config.vobiz.authToken,
      previous: deps.config.vobiz.authTokenPrevious,
      parent: deps.config.vobiz.parentAuthToken,
    },
  });
  if (!result.ok) {
    deps.metrics.signatureFailures.inc({ reason: result.reason });
    ctx.state.log.info({ reason: result.reason, path: ctx.path }, "signature refused");
    throw new AppError(result.reason === "missing" ? "SIGNATURE_MISSING" : "SIGNATURE_INVALID");
  }
  return { result: "verified", scheme: result.scheme, family: result.family, nonce: result.nonce };
}

async function readEvent(
  ctx: Ctx,
  route: "events" | "answer",
  verification: IncomingEvent["verification"],
): Promise<IncomingEvent> {
  let payload: Payload;
  let raw: string;
  let contentType = "";
  if (ctx.method === "GET") {
    raw = ctx.querystring;
    if (Buffer.byteLength(raw) > LIMITS.bodyBytes) throw new AppError("BODY_TOO_LARGE");
    payload = parseForm(raw);
  } else {
    const body = await readRawBody(ctx.req, LIMITS.bodyBytes);
    contentType = ctx.get("content-type");
    payload = parseBody(bodyKind(contentType, body.length > 0), body);
    raw = body.toString("utf8");
  }
  return {
    route,
    method: ctx.method,
    path: ctx.path,
    url: ctx.url,
    query: lenientQuery(ctx.querystring),
    payload,
    raw,
    contentType,
    requestId: ctx.state.requestId,
    verification,
  };
}

/** Query parameters label events (scope, tenant); they are parsed leniently and never authorise. */
function lenientQuery(querystring: string): Record<string, string | string[]> {
  if (querystring === "") return {};
  const query = new Map<string, string | string[]>();
  let count = 0;
  for (const [name, value] of new URLSearchParams(querystring)) {
    if ((count += 1) > LIMITS.fields || name.length > LIMITS.nameLength) break;
    const previous = query.get(name);
    query.set(
      name,
      previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value],
    );
  }
  return Object.fromEntries(query);
}
