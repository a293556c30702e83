/**
 * A lease on one action job: what the action's runner may know of the job and the four ways it can end a
 * run. The runner settles each lease once; the delivery runner then carries the settlement out through
 * bull's public Job API (for a job bull's worker took: by the handler's return or throw).
 */
import type Bull from "bull";
import { RetryLater } from "./action-job-options.ts";
import type { ActionJobData } from "./job-types.ts";

export interface ActionLease {
  /** the job id: `<event id>:<rule id>:<action index>` (a redriven job adds `:retry-N`) */
  readonly id: string;
  readonly data: ActionJobData;
  /** this run's attempt, 1-based; runs deferred by an open breaker are not attempts */
  readonly attempt: number;
  readonly attempts: number;
  /** run by the process that received the event, at once, or taken from the queue */
  readonly started: "request" | "queue";
  /** done: the trace fields are written, then the job is completed (and removed) */
  complete(trace: Record<string, string>): void;
  /** run again after the action's backoff, at least `afterMs` (a Retry-After) */
  retry(reason: string, afterMs?: number): void;
  /** run again after `ms`, without spending an attempt (an open circuit breaker) */
  defer(ms: number, note?: string): Promise<void>;
  /** failed for good: no further attempt (the job goes to bull's failed set) */
  discard(reason: string): void;
}

/** Runs an action job; settles its lease (a throw is a retry after the backoff). */
export type DeliveryHandler = (lease: ActionLease, prepared?: unknown) => Promise<void>;

export type Settlement =
  { kind: "complete"; trace: Record<string, string> } | { kind: "fail"; error: Error; discard: boolean };

/**
 * The lease on `job`. bull counts every failed run as an attempt, so the deferrals a job has had are kept
 * in its data and added to its attempts in memory, where bull's moveToFailed reads them.
 */
export function leaseOn(
  job: Bull.Job<ActionJobData>,
  started: ActionLease["started"],
): { lease: ActionLease; settlement: () => Settlement | undefined } {
  // a deferral is saved before bull counts the run: a process that died in between saved one too many
  const deferrals = Math.min(job.data.deferrals ?? 0, job.attemptsMade);
  const attempts = job.opts.attempts ?? 1;
  job.opts.attempts = attempts + deferrals;
  const attempt = job.attemptsMade + 1 - deferrals;
  let settled: Settlement | undefined;
  const settle = (settlement: Settlement): void => {
    if (settled !== undefined) throw new Error(`action job ${String(job.id)} was settled twice`);
    settled = settlement;
  };
  const lease: ActionLease = {
    id: String(job.id),
    data: job.data,
    attempt,
    attempts,
    started,
    complete: (trace) => settle({ kind: "complete", trace }),
    retry: (reason, afterMs) =>
      settle({ kind: "fail", error: new RetryLater(reason, attempt, afterMs), discard: false }),
    async defer(ms, why = "circuit breaker open for this host") {
      await job.update({ ...job.data, deferrals: deferrals + 1 });
      job.opts.attempts = attempts + deferrals + 1;
      const note = `${why}; deferred ${ms} ms`;
      settle({ kind: "fail", error: new RetryLater(note, attempt, ms, true), discard: false });
    },
    discard: (reason) => settle({ kind: "fail", error: new Error(reason), discard: true }),
  };
  return { lease, settlement: () => settled };
}
