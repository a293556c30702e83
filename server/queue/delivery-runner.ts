/**
 * Every delivery a process runs goes through here, under one cap (DeliverySlots, ACTION_CONCURRENCY):
 * - jobs bull's worker takes from the queue (`processQueued`, bull's process handler): each waits for a
 *   slot, then its lease's settlement becomes the handler's return (completed) or throw (retried after
 *   the backoff, or failed);
 * - jobs the claim script stored already taken by this process (ROLE=all, `startTaken`): in bull's active
 *   list, locked with this consumer's token, as bull's moveToActive leaves a job it hands to a worker.
 *   They run once the sender has its answer, with what the request path already knows of the event, and
 *   are settled with bull's public Job API (moveToCompleted, moveToFailed); their locks are renewed with
 *   job.extendLock while they run.
 * Nothing is held only in memory: if this process dies mid-delivery, the lock runs out and bull's stalled
 * check returns the job to the queue, where any worker takes it (at least once, as for every job).
 */
import { createRequire } from "node:module";
import Bull from "bull";
import type { Redis } from "ioredis";
import type { Logger } from "../logger.ts";
import type { ActionLease, DeliveryHandler, Settlement } from "./action-lease.ts";
import { leaseOn } from "./action-lease.ts";
import type { DeliverySlots } from "./delivery-slots.ts";
import type { ActionJobData, ActionJobToAdd } from "./job-types.ts";
import { jobOptionsFor } from "./action-job-options.ts";
import { loadScript } from "./scripts.ts";

const require = createRequire(import.meta.url);
/** bull's own argument builder and error mapping for its moveToFinished script */
const bullScripts = require("bull/lib/scripts.js") as {
  moveToFinishedArgs(
    job: Bull.Job<ActionJobData>,
    value: string | undefined,
    property: string,
    keep: Bull.JobOptions["removeOnComplete"],
    target: "completed",
    ignoreLock: boolean,
    notFetch: boolean,
  ): Array<string | number | Buffer>;
  finishedErrors(code: number, jobId: string, command: string, state: string): Error;
};

/** The keep-jobs option as bull's moveToFinishedArgs reads it, as JSON (lua/complete-action.lua packs it). */
export function keepJobsJson(keep: Bull.JobOptions["removeOnComplete"]): string {
  if (typeof keep === "object") return JSON.stringify(keep);
  if (typeof keep === "number") return JSON.stringify({ count: keep });
  return JSON.stringify({ count: keep === true ? 0 : -1 });
}

/** bull's moveToFinished arguments for completing `job`, the keep-jobs option as JSON, and the trace. */
export function completionArgs(
  job: Bull.Job<ActionJobData>,
  trace: { key: string; text: string },
): Array<string | number> {
  const flat = bullScripts.moveToFinishedArgs(
    job,
    undefined,
    "returnvalue",
    job.opts.removeOnComplete,
    "completed",
    false,
    true,
  );
  if (flat.length !== 21 || !Buffer.isBuffer(flat[14]))
    throw new Error("bull's moveToFinished arguments changed; check server/queue/lua/complete-action.lua");
  flat[14] = keepJobsJson(job.opts.removeOnComplete);
  flat.splice(9, 0, trace.key);
  flat.push(trace.text);
  return flat as Array<string | number>;
}

/** bull's Job class: the package's public `Job` export (its typings declare only the interface) */
const BullJob = (Bull as unknown as { Job: new (...args: unknown[]) => Bull.Job<ActionJobData> }).Job;

/** how long a vobiz job that found every vobiz slot busy stays aside (plus up to as much again, spread) */
const VOBIZ_BUSY_RETRY_MS = 1000;

export interface DeliveryRunnerDeps {
  consumer: Bull.Queue<ActionJobData>;
  slots: DeliverySlots;
  /**
   * vobiz actions' own cap (VOBIZ_CONCURRENCY): a stuck Vobiz request holds one of these, never a
   * forward's slot, so it cannot delay forwards
   */
  vobizSlots: DeliverySlots;
  handler: DeliveryHandler;
  /** writes a completed delivery's trace fields (only onto a trace that exists) */
  writeTrace: (eventId: string, fields: Record<string, string>) => Promise<unknown>;
  /** the trace's key and the text a completion taken at claim time appends to it */
  traceAppend: (eventId: string, fields: Record<string, string>) => { key: string; text: string };
  /** counts a run (metrics) */
  started: (kind: ActionLease["started"]) => void;
  log: Logger;
}

export interface DeliveryRunner {
  /** the lock token and duration the claim script takes jobs with */
  readonly token: string;
  readonly lockMs: number;
  /** bull's process handler for the actions queue */
  processQueued(job: Bull.Job<ActionJobData>): Promise<void>;
  /** runs jobs the claim script stored as taken (each holds a slot taken with `slots.tryTake`) */
  startTaken(jobs: readonly ActionJobToAdd[], timestamp: number, prepared: unknown): void;
  /** resolves when every delivery started here is settled (before the queues close) */
  drain(): Promise<void>;
}

export function createDeliveryRunner(deps: DeliveryRunnerDeps): DeliveryRunner {
  const { consumer, slots, log } = deps;
  const internals = consumer as unknown as {
    token: string;
    settings: { lockDuration: number };
    client: Redis & { switchboardCompleteAction?: (...args: Array<string | number>) => Promise<number> };
  };
  const client = internals.client;
  client.defineCommand("switchboardCompleteAction", {
    numberOfKeys: 10,
    lua: loadScript("complete-action.lua"),
  });
  const lockMs = internals.settings.lockDuration;
  const inFlight = new Map<Bull.Job<ActionJobData>, number>();
  const settling = new Set<Promise<void>>();

  // as bull's own lock extender, one timer for all: a lock is renewed once a quarter of it has passed
  const renew = setInterval(() => {
    const due = Date.now() - lockMs / 4;
    for (const [job, since] of inFlight) {
      if (since > due) continue;
      inFlight.set(job, Date.now());
      job.extendLock(lockMs).then(
        (renewed) => {
          // 0: the lock is gone (it ran out while Redis was away): the queue may run the job again
          if (!renewed) log.warn({ jobId: job.id }, "delivery: lock lost; the queue may run it again");
        },
        (error: unknown) => log.warn({ err: error, jobId: job.id }, "delivery: lock not renewed"),
      );
    }
  }, lockMs / 4);
  renew.unref();

  const traceOrLog = (job: Bull.Job<ActionJobData>, trace: Record<string, string>): Promise<unknown> =>
    deps.writeTrace(job.data.event.id, trace).catch((error: unknown) => {
      log.warn({ err: error, jobId: job.id }, "delivery: done, but its trace could not be written");
    });

  const poolOf = (job: Bull.Job<ActionJobData>): DeliverySlots =>
    job.data.action.type === "vobiz" ? deps.vobizSlots : slots;

  async function runTaken(job: Bull.Job<ActionJobData>, prepared: unknown): Promise<void> {
    inFlight.set(job, Date.now());
    const pool = poolOf(job);
    try {
      if (pool !== slots) {
        // the claim took a forward's slot for it: that goes back, and it waits for one of its own
        slots.give();
        await pool.take();
      }
      const lease = leaseOn(job, "request");
      let settled: Settlement | undefined;
      try {
        await deps.handler(lease, prepared);
        settled = lease.settled ?? { kind: "complete", trace: {} };
      } catch (error) {
        settled = { kind: "fail", error: error as Error, discard: false };
      }
      if (settled.kind === "complete") {
        // the trace and the completion in one script call (lua/complete-action.lua)
        (job as { finishedOn?: number }).finishedOn = Date.now();
        const args = completionArgs(job, deps.traceAppend(job.data.event.id, settled.trace));
        const code = await client.switchboardCompleteAction!(...args);
        if (code < 0) throw bullScripts.finishedErrors(code, String(job.id), "finished", "active");
      } else {
        if (settled.discard) await job.discard();
        await job.moveToFailed(settled.error); // a retry after the backoff, or bull's failed set
      }
    } catch (error) {
      // the outcome could not be recorded (Redis away, the lock lost): the job runs again from the queue
      log.warn({ err: error, jobId: job.id }, "delivery: outcome not recorded; the queue runs it again");
    } finally {
      inFlight.delete(job);
      pool.give();
    }
  }

  return {
    token: internals.token,
    lockMs,
    async processQueued(job) {
      const pool = poolOf(job);
      if (pool === deps.vobizSlots) {
        // bull's concurrency is both caps together, so a vobiz job waiting here would hold a place that a
        // forward could use: with every vobiz slot busy (a stuck Vobiz host), it steps aside instead, and
        // costs no attempt. Forwards wait for their slot here, as before (their queue may be long: a
        // deferral each would churn through it).
        if (pool.tryTake(1) === 0) {
          const lease = leaseOn(job, "queue");
          await lease.defer(
            VOBIZ_BUSY_RETRY_MS + Math.floor(Math.random() * VOBIZ_BUSY_RETRY_MS),
            "every vobiz slot is busy",
          );
          throw (lease.settled as Extract<Settlement, { kind: "fail" }>).error;
        }
      } else {
        await pool.take();
      }
      try {
        deps.started("queue");
        const lease = leaseOn(job, "queue");
        await deps.handler(lease);
        const settled = lease.settled;
        if (settled === undefined) return;
        if (settled.kind === "complete") {
          await traceOrLog(job, settled.trace);
          return;
        }
        if (settled.discard) await job.discard();
        throw settled.error;
      } finally {
        pool.give();
      }
    },
    startTaken(jobs, timestamp, prepared) {
      // after the reply has been written: the sender is not kept waiting for the destination
      setImmediate(() => {
        for (const { id, value } of jobs) {
          let job: Bull.Job<ActionJobData>;
          try {
            job = new BullJob(consumer, "__default__", value, {
              ...jobOptionsFor(value.action),
              jobId: id,
              timestamp,
            });
          } catch (error) {
            // never expected; the job is in Redis, locked: once the lock runs out the queue runs it
            log.error({ err: error, jobId: id }, "delivery: could not start; the queue runs it");
            slots.give();
            continue;
          }
          job.id = id;
          (job as { processedOn?: number }).processedOn = timestamp;
          deps.started("request");
          const settled = runTaken(job, prepared).finally(() => settling.delete(settled));
          settling.add(settled);
        }
      });
    },
    async drain() {
      // started ones may still be waiting for their setImmediate: let it run first
      await new Promise((resolve) => setImmediate(resolve));
      while (settling.size > 0) await Promise.allSettled([...settling]);
      clearInterval(renew);
    },
  };
}
