import Bull from "bull";
import type { RedisConnections } from "../redis/redis-connections.ts";
import { ACTION_BACKOFF, actionBackoff } from "../workers/action-job-options.ts";
import { QUEUE_NAMES, type ActionJobData, type EventJobData } from "./job-types.ts";

export type EventQueue = Bull.Queue<EventJobData>;
export type ActionQueue = Bull.Queue<ActionJobData>;

export interface Queues {
  /** producing side: adds fail fast while Redis is away */
  events: EventQueue;
  /** consuming side, only where workers run */
  eventsConsumer: EventQueue | undefined;
  /** one job per matched action: adding side (event workers, dead-letter retries) */
  actions: ActionQueue;
  /** consuming side, only where workers run */
  actionsConsumer: ActionQueue | undefined;
  all(): Bull.Queue[];
  /** waits for active jobs to finish (up to the caller's deadline), then closes every queue */
  close(): Promise<void>;
}

export interface QueueOptions {
  prefix: string;
  consume: boolean;
  /** bull lockDuration: a job whose worker died is taken over after this long */
  lockMs: number;
}

export const EVENT_JOB_OPTIONS: Bull.JobOptions = {
  attempts: 10,
  backoff: { type: "exponential", delay: 1000 },
  removeOnComplete: true,
  removeOnFail: { age: 7 * 86_400 },
};

export function createQueues(connections: RedisConnections, options: QueueOptions): Queues {
  const make = <T>(name: string, kind: "producer" | "consumer"): Bull.Queue<T> =>
    new Bull<T>(name, {
      prefix: options.prefix,
      createClient: connections.bullClientFactory(kind),
      defaultJobOptions: EVENT_JOB_OPTIONS,
      settings: {
        lockDuration: options.lockMs,
        stalledInterval: Math.min(5000, options.lockMs),
        maxStalledCount: 5,
        backoffStrategies: { [ACTION_BACKOFF]: actionBackoff as never },
      },
    });
  const events = make<EventJobData>(QUEUE_NAMES.events, "producer");
  const eventsConsumer = options.consume ? make<EventJobData>(QUEUE_NAMES.events, "consumer") : undefined;
  const actions = make<ActionJobData>(QUEUE_NAMES.actions, "producer");
  const actionsConsumer = options.consume ? make<ActionJobData>(QUEUE_NAMES.actions, "consumer") : undefined;
  const all = (): Bull.Queue[] => [
    events,
    actions,
    ...(eventsConsumer ? [eventsConsumer] : []),
    ...(actionsConsumer ? [actionsConsumer] : []),
  ];
  return {
    events,
    eventsConsumer,
    actions,
    actionsConsumer,
    all,
    async close() {
      // consumers first: they finish their active jobs (events may still add actions); then the producers
      if (eventsConsumer) await eventsConsumer.close();
      if (actionsConsumer) await actionsConsumer.close();
      await actions.close();
      await events.close();
    },
  };
}
