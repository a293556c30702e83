/**
 * The event job (SPEC §4.2, §4.5): evaluates the ruleset for a stored event and adds one job per matched
 * action. The decision (ruleset version, matched rules, action jobs) is written to the trace before the
 * action jobs are added, and a retried job reuses it, so a retry keeps the version it was decided under
 * and adds the same jobs (same ids) again. Respond actions are the answer reply's business, not a job's.
 */
import type { Job } from "bull";
import type { ContextOptions } from "../events/build-context.ts";
import { buildContext } from "../events/build-context.ts";
import { payloadOf } from "../events/parse-payload.ts";
import type { TraceStore } from "../events/trace-store.ts";
import type { Logger } from "../logger.ts";
import type { Metrics } from "../metrics.ts";
import { actionJobId, type ActionJobData, type EventJobData } from "../queue/job-types.ts";
import type { ActionQueue } from "../queue/queues.ts";
import { evaluateRules } from "../rules/evaluate-rules.ts";
import type { LoadedRuleset } from "../rules/load-ruleset.ts";
import type { RuleRegistry } from "../rules/rule-registry.ts";
import { jobOptionsFor } from "./action-job-options.ts";

export interface ProcessEventDeps {
  traces: TraceStore;
  registry: RuleRegistry<LoadedRuleset>;
  actions: ActionQueue;
  context: ContextOptions;
  metrics: Metrics;
  log: Logger;
}

/** What the trace records about an event's evaluation. */
export interface Decision {
  ruleset: ActionJobData["ruleset"];
  matched: Array<{ id: string; description: string | null; file: string; line: number }>;
  actions: Array<{ job: string | null; rule: string; index: number; type: string; note?: string }>;
  errors: Array<{ id: string; error: string }>;
  jobs: ActionJobData[];
}

export function decide(
  event: EventJobData,
  loaded: LoadedRuleset,
  version: ActionJobData["ruleset"],
  options: ContextOptions,
): Decision {
  const payload = payloadOf(event);
  const context = buildContext({ ...event, payload }, options);
  const evaluation = evaluateRules(loaded.ruleset, context);
  const decision: Decision = {
    ruleset: version,
    matched: evaluation.matched.map((rule) => ({
      id: rule.id,
      description: rule.description ?? null,
      file: rule.file,
      line: rule.line,
    })),
    actions: [],
    errors: evaluation.errors,
    jobs: [],
  };
  for (const rule of evaluation.matched) {
    for (const action of rule.compiled) {
      if (action.type === "respond") {
        decision.actions.push({
          job: null,
          rule: rule.id,
          index: action.index,
          type: action.type,
          note: "part of the answer reply",
        });
        continue;
      }
      const job = actionJobId(event.id, rule.id, action.index);
      decision.actions.push({ job, rule: rule.id, index: action.index, type: action.type });
      decision.jobs.push({
        event,
        rule: { id: rule.id, description: rule.description, file: rule.file },
        actionIndex: action.index,
        action: action.spec,
        ruleset: version,
      });
    }
  }
  return decision;
}

export function createEventProcessor(deps: ProcessEventDeps): (job: Job<EventJobData>) => Promise<void> {
  return async (job) => {
    const attempt = job.attemptsMade + 1;
    const log = deps.log.child({
      eventId: job.data.id,
      jobId: job.id,
      attempt: `${attempt} of ${job.opts.attempts ?? 1}`,
    });
    const trace = await deps.traces.get(job.data.id);
    let decision: Decision | undefined = trace?.decision
      ? (JSON.parse(trace.decision) as Decision)
      : undefined;
    if (decision === undefined) {
      const current = deps.registry.current;
      if (current === undefined) throw new Error("no ruleset is loaded yet");
      decision = decide(job.data, current.ruleset, current.version, deps.context);
      await deps.traces.update(job.data.id, {
        decision: JSON.stringify(decision),
        ruleset: JSON.stringify(decision.ruleset),
        matches: JSON.stringify(decision.matched),
        actions: JSON.stringify(decision.actions),
        state: "evaluated",
      });
      for (const rule of decision.matched) deps.metrics.ruleMatches.inc({ rule: rule.id });
      for (const error of decision.errors)
        log.warn({ rule: error.id, error: error.error }, "a rule's condition failed; the rule did not match");
    } else {
      log.info(
        { ruleset: decision.ruleset.hash },
        "retry: reusing the decision made under its ruleset version",
      );
    }
    if (decision.jobs.length > 0) {
      await deps.actions.addBulk(
        decision.jobs.map((data) => ({
          data,
          opts: {
            ...jobOptionsFor(data.action),
            jobId: actionJobId(data.event.id, data.rule.id, data.actionIndex),
          },
        })),
      );
    }
    await deps.traces.update(job.data.id, { state: "dispatched", processedAt: new Date().toISOString() });
    log.info(
      {
        matched: decision.matched.map((rule) => rule.id),
        actions: decision.jobs.length,
        ruleset: decision.ruleset.hash.slice(0, 12),
      },
      "event evaluated",
    );
  };
}
