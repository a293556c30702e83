/**
 * How an event's trace is stored: one Redis string per event, kept small because it is kept for the
 * whole retention (docs/BENCHMARKS.md "Redis memory per event"). It is a list of JSON objects, one per
 * line, each written once and never rewritten: the claim writes the first (and the decision's, when the
 * request path decided), later writes append a line (the joined text is SET again with the TTL it had:
 * APPEND would leave room to grow that the trace would carry for its whole retention; only onto a trace
 * that exists, so nothing is written without a TTL). Read, the lines are merged in order: a later key replaces an
 * earlier one. Keys:
 * - `event`: the request as stored (the job's event data, or a redacted copy); `type`; `requestId`;
 *   `answer`: the /answer reply's outcome;
 * - `decision`: once the rules were evaluated (the event is then "dispatched"): the ruleset version and
 *   each matched rule as `[id, file, line, actions]`, an action as `[type]`, or `[type, note]` when it
 *   runs no job;
 * - `a:<rule>:<index>`: an action's latest state, including its latest attempt (`at` in epoch ms);
 * - `t:<rule>:<index>:<attempt>`: the attempts before it (a delivery that succeeds at once has none);
 * - `r:<event id>`: a replay of this event (its run: 2 for the first, …), one key per replay, written by
 *   the replay's claim (a replay's own link back is in its event: `event.replay.of`).
 * Pure: the claim, the event job and the action runner write through it; event-view.ts and the dead
 * letters read through it.
 */
import type { RulesetVersion } from "../rules/ruleset-version.ts";

/** A trace as read: its lines merged. */
export type Trace = Readonly<Record<string, unknown>>;

/** A line to append (or the first): the fields' values are JSON texts, written as they are. */
export function traceLine(fields: Readonly<Record<string, string>>): string {
  let line = "";
  for (const name in fields) line += `${line === "" ? "{" : ","}${JSON.stringify(name)}:${fields[name]}`;
  return line === "" ? "" : `${line}}`;
}

/**
 * The claim's first line, split around the event's JSON (the queue puts it in, so it is sent once):
 * `{"event":` + event + the other fields.
 */
export function firstLine(
  event: string | undefined,
  fields: Readonly<Record<string, string>>,
): { head: string; withEvent: boolean; tail: string } {
  const rest = traceLine(fields);
  const tail = rest === "" ? "}" : `,${rest.slice(1)}`;
  return event === undefined
    ? { head: '{"event":', withEvent: true, tail }
    : { head: `{"event":${event}`, withEvent: false, tail };
}

/** the start of the decision's line: its presence says the event was decided */
export const DECISION_MARK = '\n{"decision":';

/** The decision's line (appended, or after the claim's first line). */
export const decisionLine = (decision: string): string => `${DECISION_MARK}${decision}}`;

export function parseTrace(text: string | null | undefined): Trace | undefined {
  if (text === null || text === undefined || text === "") return undefined;
  const trace: Record<string, unknown> = {};
  for (const line of text.split("\n")) {
    if (line === "") continue;
    try {
      Object.assign(trace, JSON.parse(line) as object);
    } catch {
      // a line cut short (never written by us) is skipped: the rest of the trace still reads
    }
  }
  return trace;
}

type ActionItem = [type: string] | [type: string, note: string];

export interface DecisionRecord {
  /** `commit` is left out when null (a trace is kept for every event: every byte counts) */
  ruleset: { hash: string; commit?: string | null };
  rules: Array<[id: string, file: string, line: number, actions: ActionItem[]]>;
  /** conditions that failed (an entry with overBudget stopped the evaluation) */
  errors?: EvaluationError[];
}

export interface EvaluationError {
  id: string;
  error: string;
  overBudget?: true;
}

export interface MatchedRule {
  id: string;
  file: string;
  line: number;
}

export interface DecidedActionView {
  /** the action job's id, or null when the action runs no job (see `note`) */
  job: string | null;
  rule: string;
  index: number;
  type: string;
  note?: string;
}

export function decisionField(
  version: RulesetVersion,
  matched: readonly MatchedRule[],
  actions: readonly DecidedActionView[],
  errors: readonly EvaluationError[] = [],
): string {
  const record: DecisionRecord = {
    ruleset:
      version.commit === null ? { hash: version.hash } : { hash: version.hash, commit: version.commit },
    rules: matched.map((rule) => [
      rule.id,
      rule.file,
      rule.line,
      actions
        .filter((action) => action.rule === rule.id)
        .sort((a, b) => a.index - b.index)
        .map((action): ActionItem =>
          action.note === undefined ? [action.type] : [action.type, action.note],
        ),
    ]),
  };
  if (errors.length > 0) record.errors = [...errors];
  return JSON.stringify(record);
}

export function readDecision(
  eventId: string,
  record: unknown,
):
  | {
      ruleset: { hash: string; commit: string | null };
      matched: MatchedRule[];
      actions: DecidedActionView[];
      errors: EvaluationError[];
    }
  | undefined {
  if (typeof record !== "object" || record === null || !Array.isArray((record as DecisionRecord).rules))
    return undefined;
  const { ruleset, rules, errors = [] } = record as DecisionRecord;
  return {
    ruleset: { hash: ruleset.hash, commit: ruleset.commit ?? null },
    errors,
    matched: rules.map(([id, file, line]) => ({ id, file, line })),
    actions: rules.flatMap(([rule, , , items]) =>
      items.map(([type, note], index): DecidedActionView =>
        note === undefined
          ? { job: `${eventId}:${rule}:${index}`, rule, index, type }
          : { job: null, rule, index, type, note },
      ),
    ),
  };
}

const REPLAY_PREFIX = "r:";

/** The line a replay's claim appends to the event it replays. */
export const replayLinkLine = (replayId: string, attempt: number): string =>
  `\n${traceLine({ [`${REPLAY_PREFIX}${replayId}`]: String(attempt) })}`;

/** The replays of an event, oldest first (ids sort by time). */
export function replaysOf(trace: Trace): string[] {
  const ids: string[] = [];
  for (const key in trace) if (key.startsWith(REPLAY_PREFIX)) ids.push(key.slice(REPLAY_PREFIX.length));
  return ids.sort();
}

/** the action's state key */
export const actionField = (rule: string, index: number): string => `a:${rule}:${index}`;

/** an earlier attempt's key; `attempt` is its number, `fallback`, or `<redrive>.<number>` */
export const attemptField = (rule: string, index: number, attempt: string | number): string =>
  `t:${rule}:${index}:${attempt}`;

const isoOf = (at: unknown): unknown => (typeof at === "number" ? new Date(at).toISOString() : at);

export function actionState(trace: Trace, rule: string, index: number): Record<string, unknown> | undefined {
  const state = trace[actionField(rule, index)];
  if (typeof state !== "object" || state === null) return undefined;
  const copy = { ...(state as Record<string, unknown>) };
  if ("at" in copy) {
    copy.at = isoOf(copy.at);
    copy.attempt ??= 1; // left out when 1 (run-action.ts)
  }
  return copy;
}

/** An action's attempts, oldest first: the earlier ones, then the one its state records (if any). */
export function actionAttempts(
  trace: Trace,
  rule: string,
  index: number,
): Array<Record<string, unknown> & { attempt: string }> {
  const prefix = attemptField(rule, index, "");
  const attempts: Array<Record<string, unknown> & { attempt: string }> = [];
  for (const key in trace) {
    if (!key.startsWith(prefix)) continue;
    const value = trace[key] as Record<string, unknown>;
    attempts.push({ ...value, at: isoOf(value.at), attempt: key.slice(prefix.length) });
  }
  const state = actionState(trace, rule, index);
  // a delivery's last attempt lives in its state only (attempt keys are written for attempts that failed)
  if (state?.state === "delivered" && state.via === undefined && state.at !== undefined) {
    const { at, request, status, latencyMs } = state;
    // a redriven job's attempts are keyed `<redrive>.<n>` (its state says which)
    const key = typeof state.key === "string" ? state.key : String(state.attempt);
    if (!attempts.some((a) => a.attempt === key))
      attempts.push({ attempt: key, at, request, status, latencyMs, verdict: "delivered" });
  }
  return attempts.sort((a, b) => String(a.at).localeCompare(String(b.at)));
}
