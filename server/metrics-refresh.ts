/**
 * The gauges read from Redis when /metrics is scraped: open breakers, dead letters, and the queues'
 * depth by state. A Redis error leaves them as they were; the rest of /metrics still answers.
 */
import type { Breakers } from "./actions/circuit-breaker.ts";
import type { DeadLetters } from "./actions/dead-letters.ts";
import type { Logger } from "./logger.ts";
import type { Metrics } from "./metrics.ts";
import type { EventQueue } from "./queue/event-queue.ts";

export function metricsRefresh(deps: {
  metrics: Metrics;
  breakers: Breakers;
  deadLetters: DeadLetters;
  queue: Pick<EventQueue, "depth">;
  log: Logger;
}): () => Promise<void> {
  return async () => {
    try {
      const [open, dead, depth] = await Promise.all([
        deps.breakers.open(),
        deps.deadLetters.count(),
        deps.queue.depth(),
      ]);
      deps.metrics.openBreakers.set(open.length);
      deps.metrics.deadLetters.set(dead);
      for (const { queue, state, count } of depth) deps.metrics.queueDepth.set({ queue, state }, count);
    } catch (error) {
      deps.log.debug({ err: error }, "metrics: Redis gauges not refreshed");
    }
  };
}
