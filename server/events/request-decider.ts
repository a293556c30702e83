/**
 * Which events the request path decides (README "Where an event is decided"): every /answer event, with
 * the reply's own evaluation (the rules are evaluated once per event), and, where this process also runs
 * the workers (ROLE=all), every event, which saves the event job's whole cycle. Left to the event job:
 * events stored by ROLE=web processes, and events of calls placed through Switchboard (`?call=`: the
 * call's callback settings are read from Redis).
 */
import type { Logger } from "../logger.ts";
import type { Metrics } from "../metrics.ts";
import type { LoadedRuleset } from "../rules/load-ruleset.ts";
import type { RuleRegistry } from "../rules/rule-registry.ts";
import { callOf, type ContextOptions } from "./build-context.ts";
import { decide, decisionSummary, reportDecision } from "./decide-event.ts";
import type { RequestDecider } from "./ingest.ts";

export interface RequestDeciderDeps {
  registry: RuleRegistry<LoadedRuleset>;
  context: ContextOptions;
  /** decide every event here (ROLE=all), not only /answer events */
  everyEvent: boolean;
  metrics: Metrics;
  log: Logger;
}

export function createRequestDecider(deps: RequestDeciderDeps): RequestDecider {
  return {
    decide(event, payload, evaluated) {
      if (evaluated === undefined && !deps.everyEvent) return undefined;
      const current = deps.registry.current;
      if (current === undefined) return undefined;
      if (callOf(event.query) !== null) return undefined;
      return decide({ event, current, options: deps.context, payload, evaluated });
    },
    report(decision, fields) {
      reportDecision(decision, fields, deps);
      return { decided: "in the request path", ...decisionSummary(decision) };
    },
  };
}
