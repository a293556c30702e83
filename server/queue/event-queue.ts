/**
 * The queue boundary: the only way the rest of Switchboard stores events and runs jobs. bull stays behind
 * it (this directory is the only one that imports bull; eslint.config.js enforces it). In Switchboard's
 * words:
 * - `claim` stores an incoming delivery in one round trip: a replay, a duplicate, or stored with its event
 *   job, or with the decision the request path made and its action jobs, the first of which this process
 *   may take at once to deliver in the request's wake (ROLE=all);
 * - `dispatch` records an event job's decision and adds its action jobs, atomically;
 * - `redrive` adds an action job again (a dead letter retried);
 * - `startWorkers` runs event jobs and deliveries (leases, under one cap: delivery-runner.ts);
 * - `depth` counts jobs per queue and state, for the metrics.
 */
import type { Logger } from "../logger.ts";
import type { RedisConnections } from "../redis/redis-connections.ts";
import { jobOptionsFor } from "./action-job-options.ts";
import type { ActionLease, DeliveryHandler } from "./action-lease.ts";
import { createBullQueues } from "./bull-queues.ts";
import { createDeliveryRunner, type DeliveryRunner } from "./delivery-runner.ts";
import { DeliverySlots } from "./delivery-slots.ts";
import type { ActionJobData, DispatchPlan, EventJobData } from "./job-types.ts";
import { defineQueueScripts, type ClaimCall, type ClaimTake } from "./scripts.ts";

/** a claim that takes no job (ROLE=web, nothing decided, no free slot): one object, not one per request */
const NOTHING_TAKEN: ClaimTake = Object.freeze({ count: 0, token: "", lockMs: 0 });

export type ClaimInput = ClaimCall;

export type ClaimResult =
  | { kind: "replayed" }
  | { kind: "duplicate"; id: string }
  /** a replay whose original record has expired (nothing was stored) */
  | { kind: "gone" }
  /** `taken`: how many action jobs this process took to deliver at once */
  | { kind: "stored"; id: string; taken: number };

export interface Workers {
  /** event jobs run at once per process (WORKER_CONCURRENCY) */
  eventConcurrency: number;
  /** decides a stored event (the event job); a throw retries it after its backoff */
  decide: (event: EventJobData, attempt: { made: number; of: number; jobId: string }) => Promise<void>;
  deliver: DeliveryHandler;
  /** writes a completed delivery's trace fields */
  writeTrace: (eventId: string, fields: Record<string, string>) => Promise<unknown>;
  /** the trace's key and the text that records those fields (appended by a completion script) */
  traceAppend: (eventId: string, fields: Record<string, string>) => { key: string; text: string };
  /** counts a delivery run (metrics) */
  started: (kind: ActionLease["started"]) => void;
}

export interface EventQueue {
  claim(input: ClaimInput, decided?: { jobs: DispatchPlan["jobs"]; prepared: unknown }): Promise<ClaimResult>;
  /**
   * Adds the plan's jobs and appends `trace.append` to the trace, unless `trace.mark` is in it already:
   * then an earlier attempt dispatched this event, its decision stands, and this returns false.
   */
  dispatch(
    event: EventJobData,
    plan: DispatchPlan,
    trace: { key: string; mark: string; append: string },
  ): Promise<boolean>;
  redrive(data: ActionJobData, jobId: string): Promise<void>;
  /** where this process consumes (not ROLE=web): runs event jobs and deliveries */
  startWorkers(workers: Workers): void;
  depth(): Promise<Array<{ queue: string; state: string; count: number }>>;
  /** finishes deliveries in flight, then closes the queues */
  close(): Promise<void>;
}

export interface EventQueueOptions {
  prefix: string;
  /** this process runs workers */
  consume: boolean;
  lockMs: number;
  /** deliveries at once in this process, taken at claim time and from the queue together */
  actionConcurrency: number;
  /** vobiz actions at once in this process, on slots of their own (default 10) */
  vobizConcurrency?: number;
  /** EVENT_RETENTION: a trace the dispatch writes (its own had expired) is kept this long */
  retentionMs: number;
  log: Logger;
}

export function createEventQueue(connections: RedisConnections, options: EventQueueOptions): EventQueue {
  const queues = createBullQueues(connections, options);
  const claims = defineQueueScripts(connections.command, queues);
  const dispatches = defineQueueScripts(connections.worker, queues);
  const slots = new DeliverySlots(options.actionConcurrency);
  const vobizSlots = new DeliverySlots(options.vobizConcurrency ?? 10);
  let runner: DeliveryRunner | undefined;
  let closing = false;

  return {
    async claim(input, decided) {
      const wanted = decided?.jobs.length ?? 0;
      // once closing, nothing more is taken at once: the queue runs it after the restart, or elsewhere
      const take = runner === undefined || wanted === 0 || closing ? 0 : slots.tryTake(wanted);
      let reply;
      try {
        reply = await claims.claim(
          input,
          take === 0
            ? NOTHING_TAKEN
            : { count: take, token: runner?.token ?? "", lockMs: runner?.lockMs ?? 0 },
          decided?.jobs,
        );
      } catch (error) {
        slots.give(take);
        throw error;
      }
      if (reply[0] !== "stored") {
        slots.give(take);
        if (reply[0] === "gone") return { kind: "gone" };
        return reply[0] === "replayed" ? { kind: "replayed" } : { kind: "duplicate", id: reply[1] };
      }
      const flags = reply[2];
      const started = take === 0 ? [] : (decided?.jobs ?? []).filter((_, i) => flags[i] === "1");
      slots.give(take - started.length);
      if (started.length > 0) runner?.startTaken(started, input.now, decided?.prepared);
      return { kind: "stored", id: reply[1], taken: started.length };
    },
    async dispatch(event, plan, trace) {
      const dispatched = await dispatches.dispatch({
        trace,
        now: Date.now(),
        retentionMs: options.retentionMs,
        eventJson: JSON.stringify(event),
        jobs: plan.jobs,
      });
      return dispatched === 1;
    },
    async redrive(data, jobId) {
      await queues.actions.add(data, { ...jobOptionsFor(data.action), jobId });
    },
    startWorkers(workers) {
      const { eventsConsumer, actionsConsumer } = queues;
      if (eventsConsumer === undefined || actionsConsumer === undefined)
        throw new Error("startWorkers: this process does not consume (ROLE=web)");
      runner = createDeliveryRunner({
        consumer: actionsConsumer,
        slots,
        vobizSlots,
        handler: workers.deliver,
        writeTrace: workers.writeTrace,
        traceAppend: workers.traceAppend,
        started: workers.started,
        log: options.log,
      });
      void eventsConsumer.process(workers.eventConcurrency, (job) =>
        workers.decide(job.data, {
          made: job.attemptsMade,
          of: job.opts.attempts ?? 1,
          jobId: String(job.id),
        }),
      );
      // bull may hold as many jobs as there are slots of both kinds; each waits for one of its kind
      void actionsConsumer.process(options.actionConcurrency + vobizSlots.limit, (job) =>
        runner!.processQueued(job),
      );
    },
    async depth() {
      const counts = await Promise.all(
        [queues.events, queues.actions].map(async (queue) => ({
          queue: queue.name,
          counts: await queue.getJobCounts(),
        })),
      );
      return counts.flatMap(({ queue, counts: byState }) =>
        Object.entries(byState).map(([state, count]) => ({ queue, state, count: Number(count) })),
      );
    },
    async close() {
      closing = true;
      await runner?.drain();
      await queues.close();
    },
  };
}
