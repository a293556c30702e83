/**
 * The worker role (ROLE=all and ROLE=worker): event jobs decide stored events, and every delivery, taken
 * at claim time or from the queue, runs through one action runner under ACTION_CONCURRENCY.
 */
import type { Breakers } from "../actions/circuit-breaker.ts";
import type { DeadLetters } from "../actions/dead-letters.ts";
import type { Alerts } from "../alerts/alerts.ts";
import { createActionRunner } from "../actions/run-action.ts";
import type { VobizSettings } from "../actions/run-vobiz.ts";
import type { CallStore } from "../calls/call-store.ts";
import type { ContextOptions } from "../events/build-context.ts";
import { createEventJob } from "../events/event-job.ts";
import type { TraceStore } from "../events/trace-store.ts";
import { traceLine } from "../events/trace-format.ts";
import { traceKeys } from "../events/trace-keys.ts";
import type { Logger } from "../logger.ts";
import type { Metrics } from "../metrics.ts";
import type { EventQueue } from "../queue/event-queue.ts";
import type { LoadedRuleset } from "../rules/load-ruleset.ts";
import type { RuleRegistry } from "../rules/rule-registry.ts";

export interface WorkerDeps {
  queue: EventQueue;
  registry: RuleRegistry<LoadedRuleset>;
  traces: TraceStore;
  breakers: Breakers;
  deadLetters: DeadLetters;
  calls: CallStore;
  context: ContextOptions;
  secrets: Readonly<Record<string, string>>;
  userAgent: string;
  prefix: string;
  eventConcurrency: number;
  metrics: Metrics;
  log: Logger;
  /** operational alerts: dead letters and breakers are wired in main.ts; actions may notify (vobiz_unknown) */
  alerts: Alerts;
  /** vobiz actions: the ledger, the sender, the limits */
  vobiz: VobizSettings;
}

export function startWorkers(deps: WorkerDeps): void {
  const keys = traceKeys(deps.prefix);
  const runs = {
    request: deps.metrics.actionRuns.labels({ started: "request" }),
    queue: deps.metrics.actionRuns.labels({ started: "queue" }),
  };
  deps.queue.startWorkers({
    eventConcurrency: deps.eventConcurrency,
    decide: createEventJob(deps),
    deliver: createActionRunner({
      ...deps,
      vobiz: {
        ...deps.vobiz,
        calls: deps.calls,
        breakers: deps.breakers,
        deadLetters: deps.deadLetters,
        traces: deps.traces,
        metrics: deps.metrics,
        log: deps.log,
        alerts: deps.alerts,
      },
    }),
    writeTrace: (eventId, fields) =>
      Object.keys(fields).length === 0 ? Promise.resolve(true) : deps.traces.update(eventId, fields),
    traceAppend: (eventId, fields) => {
      const line = traceLine(fields);
      return { key: keys.trace(eventId), text: line === "" ? "" : `\n${line}` };
    },
    started: (kind) => runs[kind].inc(),
  });
}
