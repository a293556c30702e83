/**
 * The event job: runs for every stored event on some worker. Each job gets a child logger carrying the
 * event id and "attempt N of M"; the trace records how far it got.
 */
import type { Job } from "bull";
import type { Logger } from "../logger.ts";
import type { EventJobData } from "../queue/job-types.ts";
import type { TraceStore } from "../events/trace-store.ts";

export interface ProcessEventDeps {
  traces: TraceStore;
  log: Logger;
}

export function createEventProcessor(deps: ProcessEventDeps): (job: Job<EventJobData>) => Promise<void> {
  return async (job) => {
    const attempt = job.attemptsMade + 1;
    const log = deps.log.child({
      eventId: job.data.id,
      jobId: job.id,
      attempt: `${attempt} of ${job.opts.attempts ?? 1}`,
    });
    await deps.traces.update(job.data.id, { state: "processed", processedAt: new Date().toISOString() });
    log.debug("event processed");
  };
}
