/**
 * The event job (SPEC §4.2, §4.5): evaluates the ruleset for a stored event and adds one job per matched
 * action. The decision (ruleset version, matched rules, actions) and the action jobs are written in one
 * atomic script call, so a retried job finds either nothing (and decides) or everything: then the
 * version it was decided under stands and no job is added again. Respond actions are the answer reply's
 * business, not a job's.
 */
import type { Job } from "bull";
import type { ContextOptions } from "../events/build-context.ts";
import { buildContext, scopeOf, type EventContext } from "../events/build-context.ts";
import type { CallRecord, CallStore } from "../calls/call-store.ts";
import { payloadOf, type Payload } from "../events/parse-payload.ts";
import type { Logger } from "../logger.ts";
import type { Metrics } from "../metrics.ts";
import { actionJobId, type ActionJobData, type EventJobData } from "../queue/job-types.ts";
import { matchesEventName } from "../events/event-type.ts";
import { evaluateRules } from "../rules/evaluate-rules.ts";
import type { LoadedRuleset } from "../rules/load-ruleset.ts";
import type { RuleRegistry } from "../rules/rule-registry.ts";
import { jobOptionsFor } from "./action-job-options.ts";
import type { ActionJobToAdd, DispatchEvent } from "./dispatch-event.ts";

export interface ProcessEventDeps {
  registry: RuleRegistry<LoadedRuleset>;
  /** records the decision and adds the action jobs, atomically */
  dispatch: DispatchEvent;
  context: ContextOptions;
  metrics: Metrics;
  /** calls placed through Switchboard: their per-call callback settings */
  calls: CallStore;
  log: Logger;
}

/** What the trace records about an event's evaluation. */
export interface Decision {
  ruleset: ActionJobData["ruleset"];
  matched: Array<{ id: string; description: string | null; file: string; line: number }>;
  actions: Array<{ job: string | null; rule: string; index: number; type: string; note?: string }>;
  errors: Array<{ id: string; error: string }>;
  /** the action jobs to add, without the event (the event job carries it) */
  jobs: Array<Omit<ActionJobData, "event">>;
  /** the context the rules were evaluated in (not recorded; inline deliveries render with it) */
  context: EventContext;
}

/** A profile's `events` list (SPEC §4.3: the profile is used only for these event types). */
function profileEvents(loaded: LoadedRuleset, name: string | undefined): string[] | undefined {
  return name === undefined ? undefined : loaded.ruleset.profiles.get(name)?.destination.events;
}

export function decide(
  event: EventJobData,
  loaded: LoadedRuleset,
  version: ActionJobData["ruleset"],
  options: ContextOptions,
  call?: CallRecord,
  payload: Payload = payloadOf(event),
): Decision {
  const context = buildContext({ ...event, payload }, options);
  const evaluation = evaluateRules(loaded.ruleset, context);
  // a call placed through Switchboard with a status_url that accepts this event is the most specific
  // level of the callback hierarchy: it replaces the callbacks section's level for this event
  const perCall =
    call?.status_url !== undefined &&
    (call.status_events === undefined ||
      call.status_events.length === 0 ||
      call.status_events.some((name) => matchesEventName(name, context.meta.type, context)));
  const matchedRules = perCall
    ? evaluation.matched.filter((rule) => rule.group !== "callbacks")
    : evaluation.matched;
  const decision: Decision = {
    ruleset: version,
    matched: matchedRules.map((rule) => ({
      id: rule.id,
      description: rule.description ?? null,
      file: rule.file,
      line: rule.line,
    })),
    actions: [],
    errors: evaluation.errors,
    jobs: [],
    context,
  };
  if (perCall && call?.status_url !== undefined) {
    const id = `callbacks.call.${call.id}`;
    decision.matched.unshift({
      id,
      description: `status_url of call ${call.id}`,
      file: "(POST /api/calls)",
      line: 0,
    });
    decision.actions.push({ job: actionJobId(event.id, id, 0), rule: id, index: 0, type: "forward" });
    decision.jobs.push({
      rule: { id, description: `status_url of call ${call.id}`, file: "(POST /api/calls)" },
      actionIndex: 0,
      action: { type: "forward", url: call.status_url, method: call.status_method ?? "POST", body: "form" },
      ruleset: version,
    });
  }
  for (const rule of matchedRules) {
    for (const action of rule.compiled) {
      const only =
        action.type === "forward" && action.spec.type === "forward"
          ? profileEvents(loaded, action.spec.profile)
          : undefined;
      if (only !== undefined && !only.some((name) => matchesEventName(name, context.meta.type, context))) {
        decision.actions.push({
          job: null,
          rule: rule.id,
          index: action.index,
          type: action.type,
          note: `profile "${action.spec.type === "forward" ? action.spec.profile : ""}" is only for ${only.join(", ")}`,
        });
        continue;
      }
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
        rule: { id: rule.id, description: rule.description, file: rule.file },
        actionIndex: action.index,
        action: action.spec,
        ruleset: version,
      });
    }
  }
  return decision;
}

/** A decision as it is written: the trace fields that record it and the action jobs to add with them. */
export interface DispatchPlan {
  decision: Decision;
  fields: Record<string, string>;
  jobs: ActionJobToAdd[];
}

/** JSON made once per ruleset version, and once per action (and version), not per event. */
const versionJson = new WeakMap<ActionJobData["ruleset"], string>();
const restJson = new WeakMap<object, { ruleset: ActionJobData["ruleset"]; rule: string; json: string }>();

function jobRest(data: Omit<ActionJobData, "event">): string {
  const cached = restJson.get(data.action);
  if (cached !== undefined && cached.ruleset === data.ruleset && cached.rule === data.rule.id)
    return cached.json;
  const json = JSON.stringify(data);
  restJson.set(data.action, { ruleset: data.ruleset, rule: data.rule.id, json });
  return json;
}

export function planDispatch(event: EventJobData, decision: Decision): DispatchPlan {
  let ruleset = versionJson.get(decision.ruleset);
  if (ruleset === undefined) versionJson.set(decision.ruleset, (ruleset = JSON.stringify(decision.ruleset)));
  const fields: Record<string, string> = {
    ruleset,
    matches: JSON.stringify(decision.matched),
    actions: JSON.stringify(decision.actions),
    state: "dispatched",
    processedAt: new Date().toISOString(),
  };
  if (decision.errors.length > 0) fields.errors = JSON.stringify(decision.errors); // conditions that failed
  return {
    decision,
    fields,
    jobs: decision.jobs.map((data) => {
      const id = actionJobId(event.id, data.rule.id, data.actionIndex);
      const actionJob: ActionJobData = Object.assign({ event }, data);
      return { id, rest: jobRest(data), value: actionJob, options: jobOptionsFor(data.action) };
    }),
  };
}

/** A decision as log lines carry it. */
export function decisionSummary(decision: Decision): Record<string, unknown> {
  return {
    matched: decision.matched.map((rule) => rule.id),
    actions: decision.jobs.length,
    ruleset: decision.ruleset.hash.slice(0, 12),
  };
}

/** Metrics and warnings for a decision once it is written, and its "event evaluated" line unless `line` is false. */
export function reportDispatch(
  decision: Decision,
  fields: Record<string, unknown>,
  deps: Pick<ProcessEventDeps, "metrics" | "log">,
  line = true,
): void {
  for (const rule of decision.matched) deps.metrics.ruleMatches.inc({ rule: rule.id });
  for (const error of decision.errors) {
    deps.log.warn(
      { ...fields, rule: error.id, error: error.error },
      "a rule's condition failed; the rule did not match",
    );
  }
  if (line) deps.log.info({ ...fields, ...decisionSummary(decision) }, "event evaluated");
}

/**
 * Deciding in the request path, where this process also runs the workers (ROLE=all): the ingest script
 * then adds the action jobs and the decision instead of an event job, which saves a whole job cycle per
 * event. Returns undefined, and the event job decides as usual, while no ruleset is loaded or when the
 * event belongs to a call placed through Switchboard (its callback settings are read from Redis).
 */
export function inlineDecider(deps: Pick<ProcessEventDeps, "registry" | "context" | "metrics" | "log">): {
  plan(event: EventJobData, payload: Payload): DispatchPlan | undefined;
  /** metrics and warnings; returns the fields the event's "event received" line carries for it */
  report(plan: DispatchPlan, fields: Record<string, unknown>): Record<string, unknown>;
} {
  return {
    plan(event, payload) {
      const current = deps.registry.current;
      if (current === undefined) return undefined;
      if (scopeOf({ ...event, payload }, undefined).call !== null) return undefined;
      return planDispatch(
        event,
        decide(event, current.ruleset, current.version, deps.context, undefined, payload),
      );
    },
    report(plan, fields) {
      reportDispatch(plan.decision, fields, deps, false);
      return { decided: "in the request path", ...decisionSummary(plan.decision) };
    },
  };
}

export function createEventProcessor(deps: ProcessEventDeps): (job: Job<EventJobData>) => Promise<void> {
  return async (job) => {
    const fields = {
      eventId: job.data.id,
      jobId: job.id,
      attempt: `${job.attemptsMade + 1} of ${job.opts.attempts ?? 1}`,
    };
    const current = deps.registry.current;
    if (current === undefined) throw new Error("no ruleset is loaded yet");
    const callId = scopeOf({ ...job.data, payload: {} }, undefined).call;
    const call = callId === null ? undefined : await deps.calls.get(callId);
    const plan = planDispatch(
      job.data,
      decide(job.data, current.ruleset, current.version, deps.context, call),
    );
    if (!(await deps.dispatch(job.data, plan.fields, plan.jobs))) {
      deps.log.info(
        fields,
        "retry: the decision of an earlier attempt stands (its ruleset version and its action jobs)",
      );
      return;
    }
    reportDispatch(plan.decision, fields, deps);
  };
}
