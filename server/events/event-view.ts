/**
 * An event's trace as the admin API shows it (SPEC §7): the payload (redacted when it held secrets),
 * verification, ruleset version, matched rules, and every action with each attempt. Pure.
 */
import { tracePayload, tracedEvent } from "./trace-store.ts";

const parse = (text: string | undefined): unknown => {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
};

export type EventStatus = "ok" | "failed" | "pending";

export interface EventView {
  id: string;
  type: string | undefined;
  status: EventStatus;
  state: string | undefined;
  receivedAt: string;
  route: string;
  path: string;
  query: unknown;
  payload: unknown;
  verification: unknown;
  requestId: string | undefined;
  ruleset: unknown;
  matches: unknown;
  /** conditions that failed while the rules were evaluated (an entry with overBudget stopped the evaluation) */
  errors: Array<{ id: string; error: string; overBudget?: true }>;
  answer: unknown;
  actions: Array<Record<string, unknown> & { job: string | null; attempts: unknown[] }>;
}

/**
 * ok: every action delivered (or nothing to do); failed: one is dead-lettered or failed, or the rules'
 * evaluation ran past its CPU budget; else pending.
 */
function statusOf(
  state: string | undefined,
  actions: EventView["actions"],
  errors: EventView["errors"],
): EventStatus {
  if (actions.some((action) => ["dead_letter", "failed"].includes(String(action.state)))) return "failed";
  if (errors.some((error) => error.overBudget)) return "failed";
  if (state !== "dispatched") return "pending";
  return actions.every(
    (action) => action.job === null || ["delivered", "skipped"].includes(String(action.state)),
  )
    ? "ok"
    : "pending";
}

export function eventView(id: string, trace: Readonly<Record<string, string>>): EventView {
  const event = tracedEvent(trace);
  const declared =
    (parse(trace.actions) as Array<Record<string, unknown> & { job: string | null }> | undefined) ?? [];
  const actions = declared.map((action) => {
    const job = action.job;
    const attempts =
      job === null
        ? []
        : Object.entries(trace)
            .filter(([field]) => field.startsWith(`attempt:${job}:`))
            .map(([field, value]) => ({
              attempt: field.slice(`attempt:${job}:`.length),
              ...(parse(value) as object),
            }))
            .sort((a, b) =>
              String((a as { at?: string }).at).localeCompare(String((b as { at?: string }).at)),
            );
    const state =
      job === null ? undefined : (parse(trace[`action:${job}`]) as Record<string, unknown> | undefined);
    return { ...action, ...(state ?? {}), attempts };
  });
  let payload: unknown;
  try {
    payload = tracePayload(trace);
  } catch {
    payload = null;
  }
  const errors = (parse(trace.errors) as EventView["errors"] | undefined) ?? [];
  return {
    id,
    type: trace.type,
    status: statusOf(trace.state, actions, errors),
    state: trace.state,
    receivedAt: event.receivedAt,
    route: event.route,
    path: event.path,
    query: event.query,
    payload,
    verification: event.verification,
    requestId: trace.requestId,
    ruleset: parse(trace.ruleset) ?? null,
    matches: parse(trace.matches) ?? [],
    errors,
    answer: parse(trace.answer) ?? null,
    actions,
  };
}
