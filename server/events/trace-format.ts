/**
 * How an event's trace is stored: one Redis hash per event, kept small because it is kept for the whole
 * retention (docs/BENCHMARKS.md "Redis memory per event"). Fields:
 * - `event`: the request as stored (the job's event data, or a redacted copy); `type`; `requestId`;
 *   `answer`: the /answer reply's outcome;
 * - `decision`: written once the rules were evaluated (then the event is "dispatched"): the ruleset
 *   version, the matched rules as `[id, file, line]` and the actions as `[rule, index, type]` (with a
 *   fourth item, a note, for an action that runs no job);
 * - `a:<rule>:<index>`: each action's latest state (JSON), including its latest attempt;
 * - `t:<rule>:<index>:<attempt>`: the attempts before it (a delivery that succeeds at once has none).
 * Pure: event-view.ts and the dead letters read it, the decision and the action runner write it.
 */
import type { RulesetVersion } from "../rules/ruleset-version.ts";

export interface DecisionRecord {
  ruleset: { hash: string; commit: string | null };
  matched: Array<[id: string, file: string, line: number]>;
  actions: Array<[rule: string, index: number, type: string] | [string, number, string, string]>;
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
): string {
  const record: DecisionRecord = {
    ruleset: { hash: version.hash, commit: version.commit },
    matched: matched.map((rule) => [rule.id, rule.file, rule.line]),
    actions: actions.map((action) =>
      action.note === undefined
        ? [action.rule, action.index, action.type]
        : [action.rule, action.index, action.type, action.note],
    ),
  };
  return JSON.stringify(record);
}

export function readDecision(
  eventId: string,
  text: string | undefined,
): { ruleset: DecisionRecord["ruleset"]; matched: MatchedRule[]; actions: DecidedActionView[] } | undefined {
  if (text === undefined) return undefined;
  const record = JSON.parse(text) as DecisionRecord;
  return {
    ruleset: record.ruleset,
    matched: record.matched.map(([id, file, line]) => ({ id, file, line })),
    actions: record.actions.map(([rule, index, type, note]) =>
      note === undefined
        ? { job: `${eventId}:${rule}:${index}`, rule, index, type }
        : { job: null, rule, index, type, note },
    ),
  };
}

/** the action's state field */
export const actionField = (rule: string, index: number): string => `a:${rule}:${index}`;

/** an earlier attempt's field; `attempt` is its number, `fallback`, or `<redrive>.<number>` */
export const attemptField = (rule: string, index: number, attempt: string | number): string =>
  `t:${rule}:${index}:${attempt}`;

/** An action's attempts, oldest first: the earlier ones, then the one its state records (if any). */
export function actionAttempts(
  trace: Readonly<Record<string, string>>,
  rule: string,
  index: number,
): Array<Record<string, unknown> & { attempt: string }> {
  const prefix = attemptField(rule, index, "");
  const attempts: Array<Record<string, unknown> & { attempt: string }> = [];
  for (const field in trace) {
    if (!field.startsWith(prefix)) continue;
    attempts.push({ ...(JSON.parse(trace[field] ?? "{}") as object), attempt: field.slice(prefix.length) });
  }
  const state = actionState(trace, rule, index);
  // a delivery's last attempt lives in its state only (attempt fields are written for attempts that failed)
  if (state?.state === "delivered" && state.via === undefined && state.at !== undefined) {
    const { attempt, at, request, status, latencyMs } = state;
    if (!attempts.some((a) => a.attempt === String(attempt)))
      attempts.push({ attempt: String(attempt), at, request, status, latencyMs, verdict: "delivered" });
  }
  return attempts.sort((a, b) => String(a.at).localeCompare(String(b.at)));
}

export function actionState(
  trace: Readonly<Record<string, string>>,
  rule: string,
  index: number,
): Record<string, unknown> | undefined {
  const text = trace[actionField(rule, index)];
  return text === undefined ? undefined : (JSON.parse(text) as Record<string, unknown>);
}
