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
 * in its data and added to its attempts in memory, where bull's moveToFailed reads them. A class, not an
 * object of closures: one is made per delivery, and tsx's kept function names make each closure cost.
 */
export class Lease implements ActionLease {
  readonly id: string;
  readonly data: ActionJobData;
  readonly attempt: number;
  readonly attempts: number;
  readonly started: ActionLease["started"];
  /** how the runner settled it (undefined: not yet) */
  settled: Settlement | undefined;
  readonly #job: Bull.Job<ActionJobData>;
  readonly #deferrals: number;

  constructor(job: Bull.Job<ActionJobData>, started: ActionLease["started"]) {
    // a deferral is saved before bull counts the run: a process that died in between saved one too many
    const deferrals = Math.min(job.data.deferrals ?? 0, job.attemptsMade);
    const attempts = job.opts.attempts ?? 1;
    job.opts.attempts = attempts + deferrals;
    this.#job = job;
    this.#deferrals = deferrals;
    this.id = String(job.id);
    this.data = job.data;
    this.attempt = job.attemptsMade + 1 - deferrals;
    this.attempts = attempts;
    this.started = started;
  }

  #settle(settlement: Settlement): void {
    if (this.settled !== undefined) throw new Error(`action job ${this.id} was settled twice`);
    this.settled = settlement;
  }

  complete(trace: Record<string, string>): void {
    this.#settle({ kind: "complete", trace });
  }

  retry(reason: string, afterMs?: number): void {
    this.#settle({ kind: "fail", error: new RetryLater(reason, this.attempt, afterMs), discard: false });
  }

  async defer(ms: number, why = "circuit breaker open for this host"): Promise<void> {
    await this.#job.update({ ...this.#job.data, deferrals: this.#deferrals + 1 });
    this.#job.opts.attempts = this.attempts + this.#deferrals + 1;
    const note = `${why}; deferred ${ms} ms`;
    this.#settle({ kind: "fail", error: new RetryLater(note, this.attempt, ms, true), discard: false });
  }

  discard(reason: string): void {
    this.#settle({ kind: "fail", error: new Error(reason), discard: true });
  }
}

/** The lease on `job`, for one run. */
export const leaseOn = (job: Bull.Job<ActionJobData>, started: ActionLease["started"]): Lease =>
  new Lease(job, started);
