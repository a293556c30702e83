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
import type { RequestState } from "../middleware/request-context.ts";
import { readRawBody } from "../read-raw-body.ts";

export interface IngestRouteDeps {
  config: Pick<Config, "publicUrl" | "signaturePolicy" | "vobiz">;
  ingest: Ingest;
  metrics: Metrics;
  /** the XML reply to an /answer request */
  answer: (result: IngestResult) => Promise<string> | string;
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
      const result = await deps.ingest(event);
      type = result.type;
      outcome = result.duplicate ? "duplicate" : "stored";
      if (result.duplicate) deps.metrics.duplicates.inc({ route });
      latency[route].observe((performance.now() - started) / 1000);
      ctx.state.baseLog.info(
        {
          requestId: ctx.state.requestId,
          eventId: result.id,
          type,
          route,
          path: ctx.path,
          duplicate: result.duplicate,
        },
        result.duplicate ? "duplicate delivery" : "event received",
      );
      if (route === "events") {
        ctx.body = { status: "received", id: result.id, ...(result.duplicate ? { duplicate: true } : {}) };
      } else {
        ctx.type = "application/xml; charset=utf-8";
        ctx.body = await deps.answer(result);
      }
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
