/**
 * Deciding an event (SPEC §4.2, §4.5): which rules match and which of their actions run as jobs. The one
 * place it happens, whoever asks: the request path (ROLE=all, and every /answer, whose reply's evaluation
 * is the decision: the rules are evaluated once per event) or the event job (events stored by ROLE=web,
 * and events of calls placed through Switchboard, whose callback settings are read from Redis). Respond
 * actions are the answer reply's business, not a job's. Pure but for the call record passed in.
 */
import type { CallRecord } from "../calls/call-store.ts";
import type { Logger } from "../logger.ts";
import type { Metrics } from "../metrics.ts";
import { planDispatch } from "../queue/plan-dispatch.ts";
import type { DecidedAction, DispatchPlan, EventJobData } from "../queue/job-types.ts";
import type { CompiledRule } from "../rules/compile-ruleset.ts";
import { evaluateRules, type Evaluation } from "../rules/evaluate-rules.ts";
import type { LoadedRuleset } from "../rules/load-ruleset.ts";
import type { RulesetVersion } from "../rules/ruleset-version.ts";
import { buildContext, type ContextOptions, type EventContext } from "./build-context.ts";
import { matchesEventName } from "./event-type.ts";
import { payloadOf, type Payload } from "./parse-payload.ts";
import { decisionField, decisionLine, type DecidedActionView, type MatchedRule } from "./trace-format.ts";

/** a vobiz action of a replay that did not ask for them (they are real side effects) */
export const REPLAY_SKIPPED = "skipped: replay";

export interface Decision {
  ruleset: RulesetVersion;
  matched: MatchedRule[];
  actions: DecidedActionView[];
  errors: Evaluation["errors"];
  /** the action jobs to add, without the event */
  jobs: DecidedAction[];
  /** the context the rules were evaluated in (deliveries taken at once render with it) */
  context: EventContext;
}

/** A loaded ruleset and its version, as the registry holds them. */
export interface CurrentRuleset {
  ruleset: LoadedRuleset;
  version: RulesetVersion;
}

/** An evaluation already made for this event (the /answer reply's), with its context and ruleset. */
export interface Evaluated {
  current: CurrentRuleset;
  context: EventContext;
  evaluation: Evaluation;
}

/** A profile's `events` list (SPEC §4.3: the profile is used only for these event types). */
function profileEvents(loaded: LoadedRuleset, name: string | undefined): string[] | undefined {
  return name === undefined ? undefined : loaded.ruleset.profiles.get(name)?.destination.events;
}

export interface DecideInput {
  event: EventJobData;
  /** the ruleset to decide with (an `evaluated` one brings its own) */
  current: CurrentRuleset;
  options: ContextOptions;
  call?: CallRecord | undefined;
  payload?: Payload;
  evaluated?: Evaluated | undefined;
}

/** An action that runs no job, and why (in the trace). */
function noJob(
  decision: Decision,
  rule: string,
  action: { index: number; type: DecidedActionView["type"] },
  note: string,
): void {
  decision.actions.push({ job: null, rule, index: action.index, type: action.type, note });
}

export function decide(input: DecideInput): Decision {
  const { event, call } = input;
  const { ruleset: loaded, version } = input.evaluated?.current ?? input.current;
  const context =
    input.evaluated?.context ??
    buildContext({ ...event, payload: input.payload ?? payloadOf(event) }, input.options);
  const evaluation = input.evaluated?.evaluation ?? evaluateRules(loaded.ruleset, context);
  // a call placed through Switchboard with a status_url that accepts this event is the most specific
  // level of the callback hierarchy: it replaces the callbacks section's level for this event
  const perCall =
    call?.status_url !== undefined &&
    (call.status_events === undefined ||
      call.status_events.length === 0 ||
      call.status_events.some((name) => matchesEventName(name, context.meta.type, context)));
  const matchedRules: CompiledRule[] = perCall
    ? evaluation.matched.filter((rule) => rule.group !== "callbacks")
    : evaluation.matched;
  const decision: Decision = {
    ruleset: version,
    matched: matchedRules.map((rule) => ({ id: rule.id, file: rule.file, line: rule.line })),
    actions: [],
    errors: evaluation.errors,
    jobs: [],
    context,
  };
  if (perCall && call?.status_url !== undefined) {
    const id = `callbacks.call.${call.id}`;
    const description = `status_url of call ${call.id}`;
    decision.matched.unshift({ id, file: "(POST /api/calls)", line: 0 });
    decision.actions.push({ job: `${event.id}:${id}:0`, rule: id, index: 0, type: "forward" });
    decision.jobs.push({
      rule: { id, description, file: "(POST /api/calls)" },
      actionIndex: 0,
      action: { type: "forward", url: call.status_url, method: call.status_method ?? "POST", body: "form" },
      ruleset: version,
    });
  }
  for (const rule of matchedRules) {
    for (const action of rule.compiled) {
      const profile = action.spec.type === "forward" ? action.spec.profile : undefined;
      const only = action.type === "forward" ? profileEvents(loaded, profile) : undefined;
      if (only !== undefined && !only.some((name) => matchesEventName(name, context.meta.type, context))) {
        noJob(decision, rule.id, action, `profile "${profile ?? ""}" is only for ${only.join(", ")}`);
        continue;
      }
      if (action.type === "respond") {
        noJob(decision, rule.id, action, "part of the answer reply");
        continue;
      }
      if (action.type === "vobiz" && event.replay !== undefined && !event.replay.vobiz) {
        noJob(decision, rule.id, action, REPLAY_SKIPPED);
        continue;
      }
      const job = `${event.id}:${rule.id}:${action.index}`;
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

/** A decision's action jobs, as the queue adds them. */
export const planOf = (event: EventJobData, decision: Decision): DispatchPlan =>
  planDispatch(event, decision.jobs);

/** A decision's line in the trace (trace-format.ts). */
export const decisionTraceLine = (decision: Decision): string =>
  decisionLine(decisionField(decision.ruleset, decision.matched, decision.actions, decision.errors));

/** A decision as log lines carry it. */
export function decisionSummary(decision: Decision): Record<string, unknown> {
  return {
    matched: decision.matched.map((rule) => rule.id),
    actions: decision.jobs.length,
    ruleset: decision.ruleset.hash.slice(0, 12),
  };
}

/** Metrics and warnings for a decision once it is written. */
export function reportDecision(
  decision: Decision,
  fields: Record<string, unknown>,
  deps: { metrics: Metrics; log: Logger },
): void {
  for (const rule of decision.matched) deps.metrics.ruleMatches.inc({ rule: rule.id });
  for (const error of decision.errors) {
    deps.log.warn(
      { ...fields, rule: error.id, error: error.error },
      "a rule's condition failed; the rule did not match",
    );
  }
}
