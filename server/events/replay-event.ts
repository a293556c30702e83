/**
 * Replay (SPEC §7 `POST /admin/events/:id/replay`): a recorded event runs again under the current ruleset
 * as a new event, through the queue's claim like any other (its event job decides it). The new event is
 * linked both ways: its own event data says which event it replays (`replay.of`) and its run
 * (`replay.attempt`: the original is 1), and the claim appends the link to the original's trace, only
 * while that trace exists. Forwards get the new event's idempotency keys; `vobiz` actions are skipped
 * (decide-event.ts) unless the replay asks for them: they are real side effects.
 */
import { AppError } from "../errors.ts";
import { newEventId } from "../ids.ts";
import type { EventQueue } from "../queue/event-queue.ts";
import type { EventJobData } from "../queue/job-types.ts";
import { callIndexer } from "./call-index.ts";
import { resolveEventType } from "./event-type.ts";
import { payloadOf } from "./parse-payload.ts";
import { firstLine, replayLinkLine, replaysOf, type Trace } from "./trace-format.ts";
import { traceKeys } from "./trace-keys.ts";
import { tracedEvent } from "./trace-store.ts";

export interface ReplayDeps {
  queue: Pick<EventQueue, "claim">;
  /** reads one trace (undefined when it has expired or never existed) */
  readTrace: (id: string) => Promise<Trace | undefined>;
  prefix: string;
  retentionMs: number;
}

export interface ReplayRequest {
  /** run the event's vobiz actions again */
  vobiz?: boolean;
  /** the admin request's id, recorded in the new trace */
  requestId?: string;
}

export interface ReplayResult {
  id: string;
  replayOf: string;
  attempt: number;
}

export type Replayer = (id: string, request?: ReplayRequest) => Promise<ReplayResult>;

const notFound = (id: string): AppError =>
  new AppError("NOT_FOUND", `No event "${id}" (traces are kept for EVENT_RETENTION); nothing was replayed.`);

export function createReplayer(deps: ReplayDeps): Replayer {
  const keys = traceKeys(deps.prefix);
  const callIndexEntry = callIndexer(deps.prefix, deps.retentionMs);
  return async (id, request = {}) => {
    const trace = await deps.readTrace(id);
    if (trace === undefined) throw notFound(id);
    const original = tracedEvent(trace);
    if (original.payload !== undefined) {
      // the trace keeps a redacted copy without the raw text: what was received cannot be sent again
      throw new AppError(
        "EVENT_NOT_REPLAYABLE",
        `Event "${id}" carried secret values, so its trace keeps only a redacted copy; ask the sender to send it again.`,
      );
    }
    const now = Date.now();
    const attempt = (original.replay?.attempt ?? 1) + replaysOf(trace).length + 1;
    const replayId = newEventId(now);
    const event: EventJobData = {
      id: replayId,
      route: original.route,
      method: original.method,
      path: original.path,
      query: original.query,
      raw: original.raw,
      contentType: original.contentType,
      receivedAt: new Date(now).toISOString(),
      verification: original.verification,
      replay: { of: id, attempt, vobiz: request.vobiz === true },
    };
    const payload = payloadOf(event);
    const fields: Record<string, string> = { type: JSON.stringify(resolveEventType(payload)) };
    if (request.requestId !== undefined) fields.requestId = JSON.stringify(request.requestId);
    let claimed;
    try {
      claimed = await deps.queue.claim({
        keys: {
          // a replay reads and writes no de-duplication or nonce record (the claim skips them)
          dedup: keys.dedup(`replay:${replayId}`),
          nonce: keys.dedup(`replay:${replayId}:nonce`),
          index: keys.index,
          trace: keys.trace(replayId),
        },
        callIndex: callIndexEntry(replayId, payload, now),
        eventId: replayId,
        hash: "",
        now,
        dedupTtlSeconds: 1,
        retentionMs: deps.retentionMs,
        signed: false,
        eventJson: JSON.stringify(event),
        trace: firstLine(undefined, fields),
        replayOf: { key: keys.trace(id), append: replayLinkLine(replayId, attempt) },
      });
    } catch (error) {
      throw new AppError("QUEUE_UNAVAILABLE", undefined, { cause: error, headers: { "Retry-After": "5" } });
    }
    if (claimed.kind !== "stored") throw notFound(id); // expired between the read and the claim
    return { id: replayId, replayOf: id, attempt };
  };
}
