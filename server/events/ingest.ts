/**
 * Stores an incoming delivery as an event, through the queue's claim (one atomic round trip: replay
 * check, de-duplication, trace, index, and the event job, or the decision and its action jobs where the
 * request path decides). Answers only once the event is in Redis; Redis trouble becomes
 * QUEUE_UNAVAILABLE, never a silent loss.
 */
import { hash as digest } from "node:crypto";
import type { Redis } from "ioredis";
import { AppError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import type { EventQueue } from "../queue/event-queue.ts";
import type { EventJobData, VerificationSummary } from "../queue/job-types.ts";
import type { NonceFamily } from "../signatures/vobiz-signature.ts";
import { newEventId } from "../ids.ts";
import type { Decision, Evaluated } from "./decide-event.ts";
import { decisionTraceLine, planOf } from "./decide-event.ts";
import { callIndexer } from "./call-index.ts";
import { resolveEventType } from "./event-type.ts";
import { FORM_CONTENT_TYPE, type Payload } from "./parse-payload.ts";
import { needsRedaction, redactPayload } from "./redact-payload.ts";
import { firstLine } from "./trace-format.ts";
import { traceKeys } from "./trace-keys.ts";

const DEDUP_TTL_SECONDS = 24 * 3600;

export interface IncomingEvent {
  route: "events" | "answer";
  method: string;
  /** the raw request path (no query) */
  path: string;
  /** the raw request target (path and query), part of the de-duplication identity */
  url: string;
  query: Record<string, string | string[]>;
  payload: Payload;
  raw: string;
  contentType: string;
  requestId: string;
  verification: VerificationSummary & { family?: NonceFamily; nonce?: string };
  /** given when the id and receive time were assigned before storing (the answer path, the journal) */
  id?: string;
  receivedAt?: string;
  /** the /answer reply's outcome, recorded in the trace (JSON) */
  answer?: string;
  /** the /answer reply's evaluation: it is the event's decision (the rules are evaluated once) */
  evaluated?: Evaluated | undefined;
}

export interface IngestResult {
  id: string;
  type: string;
  duplicate: boolean;
  /** decided in the request path: the decision, as the "event received" line carries it */
  decision?: Record<string, unknown> | undefined;
}

/** Decides events in the request path (decide-event.ts); undefined leaves an event to its event job. */
export interface RequestDecider {
  decide(event: EventJobData, payload: Payload, evaluated: Evaluated | undefined): Decision | undefined;
  /** metrics and warnings; returns the fields the event's "event received" line carries for it */
  report(decision: Decision, fields: Record<string, unknown>): Record<string, unknown>;
}

export interface IngestDeps {
  queue: Pick<EventQueue, "claim">;
  decider: RequestDecider;
  prefix: string;
  retentionMs: number;
  secretValues: ReadonlySet<string>;
  log: Logger;
}

export type Ingest = (event: IncomingEvent) => Promise<IngestResult>;

export function createIngest(deps: IngestDeps): Ingest {
  const keys = traceKeys(deps.prefix);
  const callIndexEntry = callIndexer(deps.prefix, deps.retentionMs);
  return async (event) => {
    const receivedAt = event.receivedAt === undefined ? new Date() : new Date(event.receivedAt);
    const type = resolveEventType(event.payload);
    // 132 bits of SHA-256 identify a delivery for 24 h; the key and the nonce record are kept that long
    const hash = digest("sha256", `${event.method}\n${event.url}\n${event.raw}`, "base64url").slice(0, 22);
    const { family, nonce, result, scheme } = event.verification;
    const verification: VerificationSummary = scheme === undefined ? { result } : { result, scheme };
    const id = event.id ?? newEventId(receivedAt.getTime());
    const job: EventJobData = {
      id,
      route: event.route,
      method: event.method,
      path: event.path,
      query: event.query,
      raw: event.raw,
      // left out of the JSON (undefined) when it is the form encoding Vobiz sends; not a spread (hot path)
      contentType: event.contentType === FORM_CONTENT_TYPE ? undefined : event.contentType,
      receivedAt: receivedAt.toISOString(),
      verification,
    };
    const eventJson = JSON.stringify(job);
    // the trace keeps the job data, unless the payload holds secrets: then a redacted copy without the raw text
    const traced = needsRedaction(event.payload, deps.secretValues)
      ? JSON.stringify({ ...job, raw: "", payload: redactPayload(event.payload, deps.secretValues) })
      : "";
    const signed = family !== undefined && nonce !== undefined;
    let decision: Decision | undefined;
    try {
      decision = deps.decider.decide(job, event.payload, event.evaluated);
    } catch (error) {
      // never expected: the event is stored with an event job, which decides it (and retries)
      deps.log.error({ err: error, eventId: id }, "the request path could not decide the event");
    }
    const fields: Record<string, string> = {
      type: JSON.stringify(type),
      requestId: JSON.stringify(event.requestId),
    };
    if (event.answer !== undefined) fields.answer = event.answer;
    // the trace keeps the job's event data (put in by the claim), or the redacted copy
    const trace = firstLine(traced === "" ? undefined : traced, fields);
    if (decision !== undefined) trace.tail += decisionTraceLine(decision);
    let claimed;
    try {
      claimed = await deps.queue.claim(
        {
          keys: {
            dedup: keys.dedup(hash),
            nonce: signed ? keys.nonce(family, nonce) : keys.dedup(`${hash}:nonce`),
            index: keys.index,
            trace: keys.trace(id),
          },
          callIndex: callIndexEntry(id, event.payload, receivedAt.getTime()),
          eventId: id,
          hash,
          now: receivedAt.getTime(),
          dedupTtlSeconds: DEDUP_TTL_SECONDS,
          retentionMs: deps.retentionMs,
          signed,
          eventJson,
          trace,
        },
        decision === undefined
          ? undefined
          : {
              jobs: planOf(job, decision).jobs,
              prepared: { payload: event.payload, context: decision.context },
            },
      );
    } catch (error) {
      throw new AppError("QUEUE_UNAVAILABLE", undefined, { cause: error, headers: { "Retry-After": "5" } });
    }
    switch (claimed.kind) {
      case "replayed":
        deps.log.warn(
          { security: true, path: event.path, family, nonce, requestId: event.requestId },
          "signature nonce replayed with a different body; refused",
        );
        throw new AppError("SIGNATURE_REPLAYED");
      case "stored": {
        const fields = { eventId: id, requestId: event.requestId };
        const summary = decision === undefined ? undefined : deps.decider.report(decision, fields);
        return { id, type, duplicate: false, decision: summary };
      }
      case "duplicate":
        return { id: claimed.id, type, duplicate: true };
      case "gone": // only a replay's claim answers this
        throw new Error("the claim of a new event answered gone");
    }
  };
}

/** Drops index entries older than the retention (their traces have expired). Run periodically, not per event. */
export async function trimEventIndex(redis: Redis, prefix: string, retentionMs: number): Promise<number> {
  return redis.zremrangebyscore(traceKeys(prefix).index, "-inf", Date.now() - retentionMs);
}
