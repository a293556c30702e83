/**
 * Bulk replay (SPEC §7, issue 17): replays of many recorded events, paced so they never starve live
 * traffic. A queue of its own (`replays`), apart from the live `events` and `actions` queues, consumed
 * where workers run, under a rate limit (REPLAY_RATE per second, fleet-wide: bull's limiter) and only
 * while the live queues have no backlog: a replay waits while live jobs wait. Each replay is one job (its
 * id `<bulk id>:<event id>`, so an event is replayed once per bulk however often it is added); the bulk's
 * progress is a hash (total, done, failed) with the last errors, kept for 7 days.
 */
import Bull from "bull";
import type { Logger } from "../logger.ts";
import type { RedisConnections } from "../redis/redis-connections.ts";

export interface BulkReplay {
  id: string;
  state: "running" | "completed";
  total: number;
  done: number;
  failed: number;
  vobiz: boolean;
  createdAt: string;
  /** the filter it was made from, as given */
  filter: unknown;
  /** the latest failures (up to 20), newest first */
  errors: Array<{ event: string; code: string; message: string }>;
}

interface ReplayJob {
  bulk: string;
  event: string;
  vobiz: boolean;
}

export interface ReplayQueueOptions {
  prefix: string;
  /** this process runs replays (where workers run) */
  consume: boolean;
  /** replays per second, fleet-wide */
  ratePerSecond: number;
  lockMs: number;
  log: Logger;
}

export interface ReplayWork {
  /** replays one event (a throw counts it failed, with the error's `code` and message) */
  replay: (event: string, vobiz: boolean) => Promise<unknown>;
  /** live jobs waiting: replays wait while there are any */
  liveBacklog: () => Promise<number>;
}

export interface ReplayQueue {
  /** a bulk replay of `events` (ids): its progress record and one job per event */
  start(
    bulk: string,
    events: readonly string[],
    options: { vobiz: boolean; filter: unknown },
  ): Promise<BulkReplay>;
  progress(bulk: string): Promise<BulkReplay | undefined>;
  /** runs replays in this process (not ROLE=web) */
  consume(work: ReplayWork): void;
  /** replay jobs per state, for the metrics */
  depth(): Promise<Array<{ queue: string; state: string; count: number }>>;
  close(): Promise<void>;
}

const KEEP_SECONDS = 7 * 86_400;
const KEPT_ERRORS = 20;
/** how long a replay waits for the live queues to drain before it runs anyway (bounded: never stuck) */
const LIVE_WAIT_MS = 60_000;
/** runs of a replay that failed because the store was away (other failures are final) */
const RETRIES = 5;

export function createReplayQueue(connections: RedisConnections, options: ReplayQueueOptions): ReplayQueue {
  const make = (kind: "producer" | "consumer"): Bull.Queue<ReplayJob> =>
    new Bull<ReplayJob>("replays", {
      prefix: options.prefix,
      createClient: connections.bullClientFactory(kind),
      limiter: { max: options.ratePerSecond, duration: 1000 },
      defaultJobOptions: {
        attempts: RETRIES,
        backoff: { type: "exponential", delay: 1000 },
        removeOnComplete: true,
        removeOnFail: true,
      },
      settings: { lockDuration: options.lockMs, stalledInterval: Math.min(5000, options.lockMs) },
    });
  const producer = make("producer");
  const consumer = options.consume ? make("consumer") : undefined;
  const redis = connections.command;
  const key = (bulk: string): string => `${options.prefix}:replays:${bulk}`;
  const errorsKey = (bulk: string): string => `${options.prefix}:replays:${bulk}:errors`;

  async function progress(bulk: string): Promise<BulkReplay | undefined> {
    const [record, errors] = await Promise.all([
      redis.hgetall(key(bulk)),
      redis.lrange(errorsKey(bulk), 0, KEPT_ERRORS - 1),
    ]);
    if (record.total === undefined) return undefined;
    const total = Number(record.total);
    const done = Number(record.done ?? 0);
    const failed = Number(record.failed ?? 0);
    return {
      id: bulk,
      state: done + failed >= total ? "completed" : "running",
      total,
      done,
      failed,
      vobiz: record.vobiz === "1",
      createdAt: record.createdAt ?? "",
      filter: JSON.parse(record.filter ?? "null") as unknown,
      errors: errors.map((text) => JSON.parse(text) as BulkReplay["errors"][number]),
    };
  }

  return {
    async start(bulk, events, { vobiz, filter }) {
      await redis
        .multi()
        .hset(key(bulk), {
          total: events.length,
          done: 0,
          failed: 0,
          vobiz: vobiz ? "1" : "0",
          createdAt: new Date().toISOString(),
          filter: JSON.stringify(filter),
        })
        .expire(key(bulk), KEEP_SECONDS)
        .exec();
      for (let start = 0; start < events.length; start += 500) {
        await producer.addBulk(
          events.slice(start, start + 500).map((event) => ({
            data: { bulk, event, vobiz },
            opts: { jobId: `${bulk}:${event}` },
          })),
        );
      }
      return (await progress(bulk))!;
    },
    progress,
    consume(work) {
      if (consumer === undefined) throw new Error("replays are consumed where workers run (not ROLE=web)");
      void consumer.process(2, async (job) => {
        const { bulk, event, vobiz } = job.data;
        // live traffic first: wait (bounded) while live jobs wait
        const until = Date.now() + LIVE_WAIT_MS;
        while (Date.now() < until && (await work.liveBacklog()) > 0)
          await new Promise((resolve) => setTimeout(resolve, 100));
        try {
          await work.replay(event, vobiz);
          await redis.hincrby(key(bulk), "done", 1);
        } catch (error) {
          const code = (error as { code?: unknown }).code;
          if (code === "QUEUE_UNAVAILABLE" && job.attemptsMade + 1 < RETRIES) throw error; // run again later
          const entry = {
            event,
            code: typeof code === "string" ? code : "INTERNAL_ERROR",
            message: (error as Error).message,
          };
          options.log.warn(
            { bulk, eventId: event, err: error },
            "a bulk replay's event could not be replayed",
          );
          await redis
            .multi()
            .hincrby(key(bulk), "failed", 1)
            .lpush(errorsKey(bulk), JSON.stringify(entry))
            .ltrim(errorsKey(bulk), 0, KEPT_ERRORS - 1)
            .expire(errorsKey(bulk), KEEP_SECONDS)
            .exec();
        }
      });
    },
    async depth() {
      const counts = await producer.getJobCounts();
      return Object.entries(counts).map(([state, count]) => ({
        queue: "replays",
        state,
        count: Number(count),
      }));
    },
    async close() {
      if (consumer) await consumer.close();
      await producer.close();
    },
  };
}
