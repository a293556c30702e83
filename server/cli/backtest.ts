/**
 * The core of `switchboard backtest` (issue 17): recorded events (the export's lines) evaluated offline
 * under a candidate ruleset, each compared with a baseline: the decision recorded for it (rules matched
 * and their actions), or, given a base ruleset, that ruleset's full outcome (rules, actions, rendered
 * forwards and vobiz calls, the XML reply). The same code decides as the service (decide-event.ts), renders
 * as `POST /admin/evaluate` and rule tests do, and chooses the reply as /answer does. Pure.
 */
import { isDeepStrictEqual } from "node:util";
import type { RenderedAction } from "../actions/compile-actions.ts";
import { chooseReply } from "../answer/choose-reply.ts";
import { buildContext, type ContextOptions } from "../events/build-context.ts";
import { decide, type CurrentRuleset } from "../events/decide-event.ts";
import type { ExportedEvent } from "../events/event-export.ts";
import { payloadOf, type Payload } from "../events/parse-payload.ts";
import type { EventJobData } from "../queue/job-types.ts";
import { evaluateRules } from "../rules/evaluate-rules.ts";

/** What a ruleset does with one event. */
export interface Outcome {
  rules: string[];
  /** `rule#index type` and the note of an action that runs no job */
  actions: string[];
  /** rendered forwards and vobiz calls, by `rule#index` (only with a ruleset, not a recorded decision) */
  rendered?: Record<string, unknown>;
  /** the /answer reply's XML (only with a ruleset) */
  xml?: string | null;
}

export interface EventChange {
  id: string;
  type: string | null;
  path: string;
  receivedAt: string;
  call: string | null;
  /** rules that match now and did not */
  added: string[];
  /** rules that matched and no longer do */
  removed: string[];
  /** rules matched by both whose actions (or rendered requests) differ */
  changed: string[];
  /** the XML reply differs */
  xml: boolean;
  before: Outcome;
  after: Outcome;
}

export interface BacktestReport {
  /** events compared */
  events: number;
  /** skipped: replays (their originals are compared), events not decided yet */
  skipped: { replays: number; undecided: number };
  baseline: "recorded" | "base";
  changes: EventChange[];
  /** per rule (and `(reply)` for the XML): the events whose decision about it changed */
  byRule: Array<{ rule: string; added: string[]; removed: string[]; changed: string[] }>;
}

const PER_CALL = "callbacks.call.";

function payloadOfExport(event: ExportedEvent): Payload {
  return (event.payload as Payload | undefined) ?? payloadOf(event);
}

/** The candidate (or base) ruleset's outcome for an exported event. */
export function outcomeOf(current: CurrentRuleset, event: ExportedEvent, options: ContextOptions): Outcome {
  const payload = payloadOfExport(event);
  const job: EventJobData = {
    id: event.id,
    route: event.route === "answer" ? "answer" : "events",
    method: event.method,
    path: event.path,
    query: (event.query ?? {}) as EventJobData["query"],
    raw: event.raw,
    contentType: event.contentType,
    receivedAt: event.receivedAt,
    verification: { result: "verified" },
  };
  const context = buildContext({ ...job, payload }, options);
  const { ruleset } = current.ruleset;
  const evaluation = evaluateRules(ruleset, context);
  const decision = decide({
    event: job,
    current,
    options,
    payload,
    evaluated: { current, context, evaluation },
  });
  const rendered: Record<string, unknown> = {};
  for (const action of decision.actions) {
    if (action.job === null || action.type === "respond") continue;
    const rule = ruleset.rule(action.rule);
    const compiled = rule?.compiled[action.index];
    if (rule === undefined || compiled === undefined) continue;
    let value: RenderedAction | { error: string };
    try {
      value = compiled.render({
        context,
        payload,
        raw: { text: event.raw, contentType: event.contentType },
        rule: { id: rule.id, description: rule.description },
      });
    } catch (error) {
      value = { error: (error as Error).message };
    }
    rendered[`${action.rule}#${action.index}`] = comparable(value);
  }
  let xml: string | null = null;
  if (job.route === "answer") {
    try {
      xml = chooseReply(evaluation.matched, { context, payload }, current.ruleset.defaultReply).xml;
    } catch (error) {
      xml = `(the reply failed: ${(error as Error).message})`;
    }
  }
  return {
    rules: decision.matched.map((rule) => rule.id),
    actions: decision.actions.map(actionKey),
    rendered,
    xml,
  };
}

/** What is sent, without what only says how (timeouts, retries) */
function comparable(action: RenderedAction | { error: string }): unknown {
  if (!("type" in action)) return action;
  if (action.type === "forward")
    return { url: action.url, method: action.method, headers: action.headers, body: action.body ?? null };
  return action;
}

const actionKey = (action: { rule: string; index: number; type: string; note?: string }): string =>
  `${action.rule}#${action.index} ${action.type}${action.note === undefined ? "" : ` (${action.note})`}`;

/** The decision recorded for an exported event (a call's own status_url is not a rule of any file). */
export function recordedOutcome(event: ExportedEvent): Outcome | undefined {
  if (event.decision === null) return undefined;
  return {
    rules: event.decision.matched.filter((rule) => !rule.startsWith(PER_CALL)),
    actions: event.decision.actions.filter((action) => !action.rule.startsWith(PER_CALL)).map(actionKey),
  };
}

const ruleOfKey = (key: string): string => key.slice(0, key.lastIndexOf("#"));

/** Compares one event's outcomes; undefined when nothing that both sides know of differs. */
export function compareOutcomes(
  event: ExportedEvent,
  before: Outcome,
  after: Outcome,
): EventChange | undefined {
  const added = after.rules.filter((rule) => !before.rules.includes(rule));
  const removed = before.rules.filter((rule) => !after.rules.includes(rule));
  const both = after.rules.filter((rule) => before.rules.includes(rule));
  const changed = both.filter((rule) => {
    const of = (outcome: Outcome): string[] =>
      outcome.actions.filter((key) => ruleOfKey(key.split(" ")[0] ?? "") === rule);
    if (!isDeepStrictEqual(of(before), of(after))) return true;
    if (before.rendered === undefined || after.rendered === undefined) return false;
    const renderedOf = (outcome: Outcome): unknown =>
      Object.entries(outcome.rendered ?? {}).filter(([key]) => ruleOfKey(key) === rule);
    return !isDeepStrictEqual(renderedOf(before), renderedOf(after));
  });
  const xml = before.xml !== undefined && after.xml !== undefined && before.xml !== after.xml;
  if (added.length === 0 && removed.length === 0 && changed.length === 0 && !xml) return undefined;
  const payload = payloadOfExport(event);
  return {
    id: event.id,
    type: event.type,
    path: event.path,
    receivedAt: event.receivedAt,
    call: typeof payload.CallUUID === "string" ? payload.CallUUID : null,
    added,
    removed,
    changed,
    xml,
    before,
    after,
  };
}

export interface BacktestInput {
  candidate: CurrentRuleset;
  /** compare with this ruleset's outcome instead of the recorded decision */
  base?: CurrentRuleset | undefined;
  options: ContextOptions;
}

/** Runs the backtest over the exported events (read as they come). */
export async function backtest(
  events: AsyncIterable<ExportedEvent> | Iterable<ExportedEvent>,
  input: BacktestInput,
): Promise<BacktestReport> {
  const report: BacktestReport = {
    events: 0,
    skipped: { replays: 0, undecided: 0 },
    baseline: input.base === undefined ? "recorded" : "base",
    changes: [],
    byRule: [],
  };
  for await (const event of events) {
    if (event.replayOf !== null && event.replayOf !== undefined) {
      report.skipped.replays += 1;
      continue;
    }
    const before =
      input.base === undefined ? recordedOutcome(event) : outcomeOf(input.base, event, input.options);
    if (before === undefined) {
      report.skipped.undecided += 1;
      continue;
    }
    report.events += 1;
    const change = compareOutcomes(event, before, outcomeOf(input.candidate, event, input.options));
    if (change !== undefined) report.changes.push(change);
  }
  const groups = new Map<string, { rule: string; added: string[]; removed: string[]; changed: string[] }>();
  const group = (rule: string): { rule: string; added: string[]; removed: string[]; changed: string[] } => {
    let entry = groups.get(rule);
    if (entry === undefined) groups.set(rule, (entry = { rule, added: [], removed: [], changed: [] }));
    return entry;
  };
  for (const change of report.changes) {
    for (const rule of change.added) group(rule).added.push(change.id);
    for (const rule of change.removed) group(rule).removed.push(change.id);
    for (const rule of change.changed) group(rule).changed.push(change.id);
    if (change.xml) group("(reply)").changed.push(change.id);
  }
  report.byRule = [...groups.values()].sort((a, b) => a.rule.localeCompare(b.rule));
  return report;
}
