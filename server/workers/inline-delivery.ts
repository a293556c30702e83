/**
 * Delivering in the request path's wake (ROLE=all). The claim script stores an action job decided in the
 * request path already taken by this process: in bull's active list, locked with this process's consumer
 * token for the lock duration, as bull's moveToActive leaves a job it hands to a worker. Once the sender
 * has its answer, the action runs here, with the payload and context the request path already built.
 * Success completes the job with bull's own completion script, extended to write the delivery's trace
 * fields in the same call; a failure goes through bull's `moveToFailed` (a retry after the action's
 * backoff, which the queue's workers run, or the failed set). Locks of deliveries still running are
 * renewed as bull renews its own.
 *
 * Nothing is held only in memory: if this process dies while delivering, the lock expires and bull's
 * stalled-job check returns the job to the queue, where any worker takes it (at least once, as for every
 * job). What it saves, per action: bull's take (moveToActive, which reads the job back and parses it), a
 * separate trace write, the workers' polling of the queue, and the wait in it. At most `limit` deliveries
 * run in this process at once (these and the queue's); beyond that, jobs are queued as usual.
 */
import { createRequire } from "node:module";
import type Bull from "bull";
import type { Redis } from "ioredis";
import type { ActionQueue } from "../queue/queues.ts";
import type { ActionJobData } from "../queue/job-types.ts";
import type { Logger } from "../logger.ts";
import type { Metrics } from "../metrics.ts";
import type { ActionJobToAdd } from "./dispatch-event.ts";
import type { ActionDone, ActionExecutor, PreparedEvent } from "./execute-action.ts";

const require = createRequire(import.meta.url);

type InlineJob = Bull.Job<ActionJobData> & {
  id: string;
  processedOn: number;
  finishedOn: number;
  toKey(type: string): string;
};

/** bull's Job class (its typings declare only the interface) */
const BullJob = require("bull/lib/job.js") as new (
  queue: ActionQueue,
  name: string,
  data: ActionJobData,
  opts: Bull.JobOptions & { timestamp: number },
) => InlineJob;

const bullScripts = require("bull/lib/scripts.js") as {
  moveToFinishedArgs(
    job: InlineJob,
    value: string | undefined,
    property: string,
    keep: Bull.JobOptions["removeOnComplete"],
    target: "completed",
    ignoreLock: boolean,
    notFetch: boolean,
  ): unknown[];
  finishedErrors(code: number, jobId: string, command: string, state: string): Error;
  extendLock(queue: ActionQueue, jobId: string, durationMs: number): Promise<number>;
};
const moveToFinished = require("bull/lib/scripts/moveToFinished-9.js") as { content: string; keys: number };
if (moveToFinished.keys !== 9 || !moveToFinished.content.includes("ARGV[12]")) {
  throw new Error("bull's moveToFinished script changed; check server/workers/inline-delivery.ts");
}

/**
 * bull's moveToFinished as a function, then the trace fields. KEYS[1..9], ARGV[1..12] as bull's script
 * takes them, except ARGV[6] (the keep-jobs option): JSON here, packed for bull by the script, so that no
 * argument is binary (a command with a Buffer argument costs ioredis several times as much to encode);
 * KEYS[10] the event's trace; ARGV[13..] its fields (name, value pairs), written only while the trace
 * exists (it is never created without its retention).
 */
const COMPLETE_SCRIPT = [
  "local function bullMoveToFinished(KEYS, ARGV)",
  moveToFinished.content,
  "end",
  'if #ARGV > 12 and redis.call("EXISTS", KEYS[10]) == 1 then',
  '  redis.call("HSET", KEYS[10], unpack(ARGV, 13))',
  "end",
  "local argv = {unpack(ARGV, 1, 12)}",
  "argv[6] = cmsgpack.pack(cjson.decode(argv[6]))",
  "return bullMoveToFinished({unpack(KEYS, 1, 9)}, argv)",
].join("\n");

/**
 * The keep-jobs option of bull's moveToFinished (`removeOnComplete` as bull's moveToFinishedArgs turns it
 * into what its script reads), as JSON for COMPLETE_SCRIPT to pack.
 */
export function keepJobsJson(keep: Bull.JobOptions["removeOnComplete"]): string {
  if (typeof keep === "object") return JSON.stringify(keep);
  if (typeof keep === "number") return JSON.stringify({ count: keep });
  return JSON.stringify({ count: keep === true ? 0 : -1 });
}

/** bull's name for jobs added without one */
const DEFAULT_JOB_NAME = "__default__";

export interface InlineDeliveryDeps {
  consumer: ActionQueue;
  execute: ActionExecutor;
  traceKey(eventId: string): string;
  /** deliveries at once in this process, inline and queued together */
  limit: number;
  metrics: Metrics;
  log: Logger;
}

export interface InlineDelivery {
  /** the lock token and duration the claim script takes the jobs with */
  readonly token: string;
  readonly lockMs: number;
  /** the prefix of the actions queue's job keys */
  readonly jobKeyPrefix: string;
  /** reserves up to `wanted` delivery slots; returns how many it got (release the ones not used) */
  reserve(wanted: number): number;
  release(count: number): void;
  /** runs jobs the claim script stored as taken; each holds one reserved slot until it is settled */
  start(jobs: readonly ActionJobToAdd[], timestamp: number, prepared: PreparedEvent): void;
  /** wraps the queue's handler so its runs count against the same limit */
  counted<T>(
    handler: (job: Bull.Job<ActionJobData>) => Promise<T>,
  ): (job: Bull.Job<ActionJobData>) => Promise<T>;
  /** resolves when every delivery started here is settled (before the queues close) */
  drain(): Promise<void>;
}

interface ConsumerInternals {
  token: string;
  defaultJobOptions: Bull.JobOptions | undefined;
  keys: Record<string, string>;
  settings: { lockDuration: number };
  client: Redis & {
    switchboardCompleteAction?(...args: Array<string | number>): Promise<number>;
  };
}

export function createInlineDelivery(deps: InlineDeliveryDeps): InlineDelivery {
  const { consumer, log } = deps;
  const queue = consumer as unknown as ConsumerInternals;
  const client = queue.client;
  client.defineCommand("switchboardCompleteAction", { numberOfKeys: 10, lua: COMPLETE_SCRIPT });
  const lockMs = queue.settings.lockDuration;
  const runsFromRequest = deps.metrics.actionRuns.labels({ started: "request" });
  let running = 0;
  /** deliveries in flight here, and when they started (for lock renewal) */
  const inFlight = new Map<InlineJob, number>();
  const settling = new Set<Promise<void>>();

  // as bull's lock extender, but one timer for all: a lock is renewed once a quarter of it has passed,
  // so it is never older than half its duration when renewed
  const renew = setInterval(() => {
    const due = Date.now() - lockMs / 4;
    for (const [job, since] of inFlight) {
      if (since > due) continue;
      inFlight.set(job, Date.now());
      bullScripts.extendLock(consumer, job.id, lockMs).catch((error: unknown) => {
        log.warn({ err: error, jobId: job.id }, "inline delivery: lock not renewed");
      });
    }
  }, lockMs / 4);
  renew.unref();

  // bull's moveToFinished arguments for completing a job, as its moveToFinishedArgs builds them (keys,
  // then jobId, finishedOn, "returnvalue", value, lock token, keep-jobs options (JSON), event data, fetch
  // next, key prefix, lock duration, token, metrics size) with what is the same for every job made once
  const { keys } = queue;
  const jobKeyPrefix = keys[""] ?? "";
  const activeEvents = `${keys.active}@${queue.token}`;
  const metricsKey = `${jobKeyPrefix}metrics:completed`;
  const keepJson = new WeakMap<object, string>();
  const bullArgs = (job: InlineJob): unknown[] =>
    bullScripts.moveToFinishedArgs(
      job,
      undefined,
      "returnvalue",
      job.opts.removeOnComplete,
      "completed",
      false,
      true,
    );
  const completionArgs = (job: InlineJob): unknown[] => {
    const keep = job.opts.removeOnComplete;
    let json = typeof keep === "object" ? keepJson.get(keep) : undefined;
    if (json === undefined) {
      json = keepJobsJson(keep);
      if (typeof keep === "object") keepJson.set(keep, json);
    }
    return [
      keys.active, keys.completed, jobKeyPrefix + job.id, keys.wait, keys.priority, activeEvents,
      keys.delayed, keys.stalled, metricsKey,
      job.id, job.finishedOn, "returnvalue", "null", queue.token, json, `{"jobId":${JSON.stringify(job.id)}}`,
      0, jobKeyPrefix, lockMs, queue.token, "",
    ]; // prettier-ignore
  };
  {
    // bull is pinned; still, refuse to start if its arguments ever differ from these
    const probe = new BullJob(consumer, DEFAULT_JOB_NAME, {} as ActionJobData, {
      removeOnComplete: { age: 1, count: 1 },
      timestamp: 0,
    });
    probe.id = "probe";
    probe.finishedOn = 1;
    // (the keep-jobs option goes as JSON, packed by the script: compared as bull packs it, below)
    const ours = JSON.stringify(completionArgs(probe).with(14, ""));
    const theirs = JSON.stringify(bullArgs(probe).map((arg, i) => (i === 14 ? "" : (arg ?? ""))));
    if (ours !== theirs) {
      throw new Error(
        `bull's moveToFinished arguments changed; check server/workers/inline-delivery.ts: ${theirs}`,
      );
    }
  }

  // The Job object bull would make for a job it takes (fromJSON), made without its constructor: that binds
  // toKey with lodash per job, which cost more than the rest of it. Options as bull's add sets them, once
  // per options object; checked against bull's own constructor at start.
  const toKey = (consumer as unknown as { toKey(type: string): string }).toKey.bind(consumer);
  const baseOpts = new WeakMap<Bull.JobOptions, Record<string, unknown>>();
  const realJob = (
    id: string,
    value: ActionJobData,
    options: Bull.JobOptions,
    timestamp: number,
  ): InlineJob => {
    const job = new BullJob(consumer, DEFAULT_JOB_NAME, value, {
      ...queue.defaultJobOptions,
      ...options,
      jobId: id,
      timestamp,
    });
    job.id = id;
    job.processedOn = timestamp;
    return job;
  };
  function makeJob(id: string, value: ActionJobData, options: Bull.JobOptions, timestamp: number): InlineJob {
    let base = baseOpts.get(options);
    if (base === undefined) {
      base = realJob("", value, options, 0).opts as Record<string, unknown>;
      baseOpts.set(options, base);
    }
    const job = Object.create(BullJob.prototype as object) as InlineJob & Record<string, unknown>;
    job.opts = { ...base, jobId: id, timestamp } as Bull.JobOptions;
    job.name = DEFAULT_JOB_NAME;
    job.queue = consumer;
    job.data = value;
    job._progress = 0;
    job.delay = 0;
    job.timestamp = timestamp;
    job.stacktrace = [];
    job.returnvalue = null;
    job.attemptsMade = 0;
    job.toKey = toKey;
    job.debounceId = undefined;
    job.id = id;
    job.processedOn = timestamp;
    return job;
  }
  {
    const options = { attempts: 3, removeOnComplete: { age: 1 } };
    const data = {} as ActionJobData;
    const [ours, theirs] = [makeJob("probe", data, options, 1), realJob("probe", data, options, 1)];
    const shape = (job: object): string =>
      JSON.stringify(Object.entries(job).filter(([name]) => name !== "queue" && name !== "toKey"));
    if (shape(ours) !== shape(theirs) || ours.toKey("x") !== theirs.toKey("x")) {
      throw new Error(`bull's Job changed; check server/workers/inline-delivery.ts: ${shape(theirs)}`);
    }
  }

  async function complete(job: InlineJob, done: ActionDone | undefined): Promise<void> {
    job.finishedOn = Date.now();
    const args = completionArgs(job);
    args.splice(9, 0, deps.traceKey(job.data.event.id));
    if (done !== undefined) for (const name in done.trace) args.push(name, done.trace[name] ?? "");
    const code = await client.switchboardCompleteAction!(...(args as Array<string | number>));
    if (code < 0) throw bullScripts.finishedErrors(code, job.id, "finished", "active");
  }

  async function run(job: InlineJob, prepared: PreparedEvent): Promise<void> {
    inFlight.set(job, Date.now());
    try {
      let done: ActionDone | undefined;
      try {
        done = await deps.execute(job, prepared);
      } catch (error) {
        await job.moveToFailed(error as Error); // bull: a retry after the backoff, or the failed set
        return;
      }
      await complete(job, done);
    } catch (error) {
      // the outcome could not be recorded (Redis away, the lock lost): the job runs again from the queue
      log.warn(
        { err: error, jobId: job.id },
        "inline delivery: outcome not recorded; the queue runs it again",
      );
    } finally {
      inFlight.delete(job);
      running -= 1;
    }
  }

  return {
    token: queue.token,
    lockMs,
    jobKeyPrefix: queue.keys[""] ?? "",
    reserve(wanted) {
      const granted = Math.max(0, Math.min(wanted, deps.limit - running));
      running += granted;
      return granted;
    },
    release(count) {
      running -= count;
    },
    start(jobs, timestamp, prepared) {
      // after the reply has been written: the sender is not kept waiting for the destination
      setImmediate(() => {
        for (const { id, value, options } of jobs) {
          const job = makeJob(id, value, options, timestamp);
          runsFromRequest.inc();
          const settled = run(job, prepared).finally(() => settling.delete(settled));
          settling.add(settled);
        }
      });
    },
    counted(handler) {
      return async (job) => {
        running += 1;
        try {
          return await handler(job);
        } finally {
          running -= 1;
        }
      };
    },
    async drain() {
      // started ones may still be waiting for their setImmediate: let it run first
      await new Promise((resolve) => setImmediate(resolve));
      while (settling.size > 0) await Promise.allSettled([...settling]);
      clearInterval(renew);
    },
  };
}
