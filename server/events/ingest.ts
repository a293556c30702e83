/**
 * Stores an incoming delivery as an event: claim (replay check, de-duplication, trace, index) in one Lua
 * round trip, then the Bull job, added under the event id so that adding it twice is harmless. Answers
 * only once the job is in Redis; Redis trouble becomes QUEUE_UNAVAILABLE, never a silent loss.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Redis } from "ioredis";
import { AppError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import type { EventQueue } from "../queue/queues.ts";
import type { EventJobData, VerificationSummary } from "../queue/job-types.ts";
import type { NonceFamily } from "../signatures/vobiz-signature.ts";
import { newEventId } from "./event-id.ts";
import { resolveEventType } from "./event-type.ts";
import type { Payload } from "./parse-payload.ts";
import { redactPayload } from "./redact-payload.ts";
import { traceKeys } from "./trace-keys.ts";

const CLAIM_SCRIPT = readFileSync(new URL("./claim-event.lua", import.meta.url), "utf8");
const DEDUP_TTL_SECONDS = 24 * 3600;
const IN_PROGRESS_WINDOW_MS = 5000;

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
}

export interface IngestResult {
  id: string;
  type: string;
  duplicate: boolean;
  /** the job data, for callers that act on the event in process (the answer path) */
  job: EventJobData;
}

export interface IngestDeps {
  redis: Redis;
  queue: EventQueue;
  prefix: string;
  retentionMs: number;
  secretValues: ReadonlySet<string>;
  log: Logger;
}

type ClaimReply = ["replayed"] | ["duplicate" | "in_progress" | "claimed", string];

export type Ingest = (event: IncomingEvent) => Promise<IngestResult>;

export function createIngest(deps: IngestDeps): Ingest {
  deps.redis.defineCommand("switchboardClaimEvent", { numberOfKeys: 3, lua: CLAIM_SCRIPT });
  const keys = traceKeys(deps.prefix);
  const claim = (
    deps.redis as unknown as Record<string, (...args: Array<string | number>) => Promise<ClaimReply>>
  ).switchboardClaimEvent;
  if (claim === undefined) throw new Error("claim script not defined");

  return async (event) => {
    const receivedAt = new Date();
    const type = resolveEventType(event.payload);
    const hash = createHash("sha256")
      .update(`${event.method}\n${event.url}\n`)
      .update(event.raw)
      .digest("base64url");
    const { family, nonce, ...verification } = event.verification;
    const trace: Record<string, string> = {
      type,
      route: event.route,
      method: event.method,
      path: event.path,
      query: JSON.stringify(event.query),
      receivedAt: receivedAt.toISOString(),
      requestId: event.requestId,
      verification: JSON.stringify(verification),
      payload: JSON.stringify(redactPayload(event.payload, deps.secretValues)),
      state: "received",
    };
    let reply: ClaimReply;
    try {
      reply = await claim.call(
        deps.redis,
        keys.dedup(hash),
        family !== undefined && nonce !== undefined ? keys.nonce(family, nonce) : keys.dedup(`${hash}:nonce`),
        keys.index,
        newEventId(receivedAt.getTime()),
        hash,
        receivedAt.getTime(),
        DEDUP_TTL_SECONDS,
        deps.retentionMs,
        IN_PROGRESS_WINDOW_MS,
        keys.tracePrefix,
        keys.eventJobPrefix,
        family !== undefined && nonce !== undefined ? "1" : "0",
        ...Object.entries(trace).flatMap(([field, value]) => [field, value]),
      );
    } catch (error) {
      throw unavailable(error);
    }
    if (reply[0] === "replayed") {
      deps.log.warn(
        { security: true, path: event.path, family, nonce, requestId: event.requestId },
        "signature nonce replayed with a different body; refused",
      );
      throw new AppError("SIGNATURE_REPLAYED");
    }
    const [outcome, id] = reply;
    const job: EventJobData = {
      id,
      route: event.route,
      method: event.method,
      path: event.path,
      query: event.query,
      payload: event.payload,
      raw: event.raw,
      contentType: event.contentType,
      receivedAt: receivedAt.toISOString(),
      verification,
    };
    if (outcome === "duplicate") return { id, type, duplicate: true, job };
    if (outcome === "in_progress") {
      throw new AppError("EVENT_IN_PROGRESS", undefined, {
        headers: { "Retry-After": "1" },
        details: { id },
      });
    }
    try {
      await deps.queue.add(job, { jobId: id });
    } catch (error) {
      throw unavailable(error);
    }
    return { id, type, duplicate: false, job };
  };
}

function unavailable(cause: unknown): AppError {
  return new AppError("QUEUE_UNAVAILABLE", undefined, { cause, headers: { "Retry-After": "5" } });
}
