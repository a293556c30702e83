/** The bull queues of one process: producing sides everywhere, consuming sides where workers run. */
import Bull from "bull";
import type { RedisConnections } from "../redis/redis-connections.ts";
import { ACTION_BACKOFF, actionBackoff } from "./action-job-options.ts";
import { QUEUE_NAMES, type ActionJobData, type EventJobData } from "./job-types.ts";

export interface BullQueues {
  events: Bull.Queue<EventJobData>;
  eventsConsumer: Bull.Queue<EventJobData> | undefined;
  actions: Bull.Queue<ActionJobData>;
  actionsConsumer: Bull.Queue<ActionJobData> | undefined;
  /** waits for active jobs to finish (up to the caller's deadline), then closes every queue */
  close(): Promise<void>;
}

export interface BullQueueOptions {
  prefix: string;
  consume: boolean;
  /** bull lockDuration: a job whose worker died is taken over after this long */
  lockMs: number;
}

/** Event jobs; action jobs take theirs from the action (action-job-options.ts). */
export const EVENT_JOB_OPTIONS: Bull.JobOptions = {
  attempts: 10,
  backoff: { type: "exponential", delay: 1000 },
  removeOnComplete: true,
  removeOnFail: { age: 7 * 86_400 },
};

export function createBullQueues(connections: RedisConnections, options: BullQueueOptions): BullQueues {
  const make = <T>(name: string, kind: "producer" | "consumer", defaults?: Bull.JobOptions): Bull.Queue<T> =>
    new Bull<T>(name, {
      prefix: options.prefix,
      createClient: connections.bullClientFactory(kind),
      ...(defaults === undefined ? {} : { defaultJobOptions: defaults }),
      settings: {
        lockDuration: options.lockMs,
        stalledInterval: Math.min(5000, options.lockMs),
        maxStalledCount: 5,
        backoffStrategies: { [ACTION_BACKOFF]: actionBackoff as never },
      },
    });
  const events = make<EventJobData>(QUEUE_NAMES.events, "producer", EVENT_JOB_OPTIONS);
  const eventsConsumer = options.consume
    ? make<EventJobData>(QUEUE_NAMES.events, "consumer", EVENT_JOB_OPTIONS)
    : undefined;
  const actions = make<ActionJobData>(QUEUE_NAMES.actions, "producer");
  const actionsConsumer = options.consume ? make<ActionJobData>(QUEUE_NAMES.actions, "consumer") : undefined;
  return {
    events,
    eventsConsumer,
    actions,
    actionsConsumer,
    async close() {
      // consumers first: they finish their active jobs (events may still add actions); then the producers
      if (eventsConsumer) await eventsConsumer.close();
      if (actionsConsumer) await actionsConsumer.close();
      await actions.close();
      await events.close();
    },
  };
}
