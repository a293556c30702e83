/**
 * The event job (SPEC §4.2, §4.5): decides a stored event and hands the decision to the queue, which
 * records it and adds its action jobs in one atomic call, so a retried job finds either nothing (and
 * decides) or everything: then the version it was decided under stands and nothing is added again.
 */
import type { CallStore } from "../calls/call-store.ts";
import type { Logger } from "../logger.ts";
import type { Metrics } from "../metrics.ts";
import type { EventQueue, Workers } from "../queue/event-queue.ts";
import type { LoadedRuleset } from "../rules/load-ruleset.ts";
import type { RuleRegistry } from "../rules/rule-registry.ts";
import { scopeOf, type ContextOptions } from "./build-context.ts";
import { decide, decisionSummary, decisionTraceLine, planOf, reportDecision } from "./decide-event.ts";
import { DECISION_MARK } from "./trace-format.ts";
import { traceKeys } from "./trace-keys.ts";

export interface EventJobDeps {
  registry: RuleRegistry<LoadedRuleset>;
  queue: Pick<EventQueue, "dispatch">;
  context: ContextOptions;
  /** calls placed through Switchboard: their per-call callback settings */
  calls: CallStore;
  prefix: string;
  metrics: Metrics;
  log: Logger;
}

export function createEventJob(deps: EventJobDeps): Workers["decide"] {
  const keys = traceKeys(deps.prefix);
  return async (event, attempt) => {
    const fields = {
      eventId: event.id,
      jobId: attempt.jobId,
      attempt: `${attempt.made + 1} of ${attempt.of}`,
    };
    const current = deps.registry.current;
    if (current === undefined) throw new Error("no ruleset is loaded yet");
    const callId = scopeOf({ ...event, payload: {} }, undefined).call;
    const call = callId === null ? undefined : await deps.calls.get(callId);
    const decision = decide({
      event,
      current,
      options: deps.context,
      call,
    });
    const trace = { key: keys.trace(event.id), mark: DECISION_MARK, append: decisionTraceLine(decision) };
    if (!(await deps.queue.dispatch(event, planOf(event, decision), trace))) {
      deps.log.info(
        fields,
        "retry: the decision of an earlier attempt stands (its ruleset version and its action jobs)",
      );
      return;
    }
    reportDecision(decision, fields, deps);
    deps.log.info({ ...fields, ...decisionSummary(decision) }, "event evaluated");
  };
}
