/**
 * Stores an incoming delivery as an event in one atomic Lua round trip: replay check, de-duplication,
 * trace, index, and the Bull job itself (added under the event id, with bull's own script); or, where this
 * process decides events itself (ROLE=all), the decision and its action jobs instead of the event job. Answers only
 * once the job is in Redis; Redis trouble becomes QUEUE_UNAVAILABLE, never a silent loss.
 */
import { hash as digest } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Redis } from "ioredis";
import { AppError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { bullAddJobFor } from "../queue/bull-add-job.ts";
import type { ActionQueue, EventQueue } from "../queue/queues.ts";
import type { EventJobData, VerificationSummary } from "../queue/job-types.ts";
import type { NonceFamily } from "../signatures/vobiz-signature.ts";
import { newEventId } from "../ids.ts";
import { resolveEventType } from "./event-type.ts";
import type { Payload } from "./parse-payload.ts";
import { needsRedaction, redactPayload } from "./redact-payload.ts";
import { traceKeys } from "./trace-keys.ts";
import type { DispatchPlan } from "../workers/process-event.ts";
import type { InlineDelivery } from "../workers/inline-delivery.ts";

const CLAIM_SCRIPT = readFileSync(new URL("./claim-event.lua", import.meta.url), "utf8");
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
}

export interface IngestResult {
  id: string;
  type: string;
  duplicate: boolean;
  /** the job data and the parsed payload, for callers that act on the event in process (the answer path) */
  job: EventJobData;
  payload: Payload;
  /** decided in the request path: the decision, as the "event received" line carries it */
  decision?: Record<string, unknown> | undefined;
}

export interface IngestDeps {
  redis: Redis;
  queue: EventQueue;
  /** the actions queue: where this process decides events itself, their action jobs are added here */
  actions: ActionQueue;
  /**
   * Decides an event in the request path (ROLE=all): the claim script then records the decision and adds
   * the action jobs instead of an event job. Undefined (or an undefined plan) leaves it to an event job.
   */
  decide?: {
    plan(event: EventJobData, payload: Payload): DispatchPlan | undefined;
    report(plan: DispatchPlan, fields: Record<string, unknown>): Record<string, unknown>;
  };
  /** with `decide`: runs action jobs in this process as soon as the request is answered */
  inline?: InlineDelivery;
  prefix: string;
  retentionMs: number;
  secretValues: ReadonlySet<string>;
  log: Logger;
}

type ClaimReply = ["replayed"] | ["duplicate", string] | ["stored", string, string];

export type Ingest = (event: IncomingEvent) => Promise<IngestResult>;

export function createIngest(deps: IngestDeps): Ingest {
  const bull = bullAddJobFor(deps.queue);
  const actions = bullAddJobFor(deps.actions, "bullAddAction");
  deps.redis.defineCommand("switchboardClaimEvent", {
    numberOfKeys: 17,
    lua: CLAIM_SCRIPT.replace("-- @bull-add-job", `${bull.lua}\n${actions.lua}`),
  });
  const keys = traceKeys(deps.prefix);
  const activeKey = (deps.actions as unknown as { keys: Record<string, string> }).keys.active ?? "";
  const { inline } = deps;
  const script = (
    deps.redis as unknown as Record<string, (...args: Array<string | number>) => Promise<ClaimReply>>
  ).switchboardClaimEvent;
  if (script === undefined) throw new Error("the claim script is not defined");

  return async (event) => {
    const receivedAt = event.receivedAt === undefined ? new Date() : new Date(event.receivedAt);
    const type = resolveEventType(event.payload);
    const hash = digest("sha256", `${event.method}\n${event.url}\n${event.raw}`, "base64url");
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
      contentType: event.contentType,
      receivedAt: receivedAt.toISOString(),
      verification,
    };
    const data = JSON.stringify(job);
    // the trace keeps the job data, unless the payload holds secrets: then a redacted copy without the raw text
    const traced = needsRedaction(event.payload, deps.secretValues)
      ? JSON.stringify({ ...job, raw: "", payload: redactPayload(event.payload, deps.secretValues) })
      : "";
    const signed = family !== undefined && nonce !== undefined;
    const now = receivedAt.getTime();
    const plan = deps.decide?.plan(job, event.payload);
    let reserved = 0;
    const args: Array<string | number> = [
      keys.dedup(hash),
      signed ? keys.nonce(family, nonce) : keys.dedup(`${hash}:nonce`),
      keys.index,
      keys.trace(id),
      ...bull.keys,
      ...actions.keys,
      activeKey,
      id,
      hash,
      now,
      DEDUP_TTL_SECONDS,
      deps.retentionMs,
      signed ? "1" : "0",
      data,
      plan === undefined ? bull.opts(id, now) : "", // no event job when decided here
      type,
      event.requestId,
      traced,
      event.answer ?? "",
    ];
    if (plan !== undefined) {
      const names = Object.keys(plan.fields);
      args.push(names.length);
      for (const name of names) args.push(name, plan.fields[name] ?? "");
      reserved = plan.jobs.length > 0 ? (inline?.reserve(plan.jobs.length) ?? 0) : 0;
      args.push(reserved, inline?.token ?? "", inline?.lockMs ?? 0, inline?.jobKeyPrefix ?? "");
      for (const action of plan.jobs) {
        args.push(action.id, action.rest, actions.optsWith(action.options, action.id, now));
      }
    }
    let reply: ClaimReply;
    try {
      reply = await script.apply(deps.redis, args);
    } catch (error) {
      inline?.release(reserved);
      throw unavailable(error);
    }
    if (reserved > 0 && inline !== undefined && plan !== undefined) {
      const taken = reply[0] === "stored" ? reply[2] : "";
      const started = plan.jobs.filter((_, i) => taken[i] === "1");
      inline.release(reserved - started.length);
      if (started.length > 0)
        inline.start(started, now, { payload: event.payload, context: plan.decision.context });
    }
    switch (reply[0]) {
      case "replayed":
        deps.log.warn(
          { security: true, path: event.path, family, nonce, requestId: event.requestId },
          "signature nonce replayed with a different body; refused",
        );
        throw new AppError("SIGNATURE_REPLAYED");
      case "stored": {
        const decision =
          plan === undefined
            ? undefined
            : deps.decide?.report(plan, { eventId: id, requestId: event.requestId });
        return { id, type, duplicate: false, job, payload: event.payload, decision };
      }
      case "duplicate":
        return { id: reply[1], type, duplicate: true, job: { ...job, id: reply[1] }, payload: event.payload };
    }
  };
}

function unavailable(cause: unknown): AppError {
  return new AppError("QUEUE_UNAVAILABLE", undefined, { cause, headers: { "Retry-After": "5" } });
}

/** Drops index entries older than the retention (their traces have expired). Run periodically, not per event. */
export async function trimEventIndex(redis: Redis, prefix: string, retentionMs: number): Promise<number> {
  return redis.zremrangebyscore(traceKeys(prefix).index, "-inf", Date.now() - retentionMs);
}
