/**
 * An event's trace as the admin API shows it (SPEC §7): the payload (redacted when it held secrets),
 * verification, ruleset version, matched rules, and every action with each attempt. Pure.
 */
import { actionAttempts, actionState, readDecision, replaysOf, type Trace } from "./trace-format.ts";
import { tracePayload, tracedEvent } from "./trace-store.ts";

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
  /** 1 as received, 2 for its first replay, … */
  attempt: number;
  /** the event this one replays, or null */
  replayOf: string | null;
  /** this event's replays, oldest first */
  replays: string[];
}

/**
 * ok: every action delivered, refused by the loop breaker, or nothing to do; failed: one is
 * dead-lettered, failed or of unknown outcome, or the rules' evaluation ran past its CPU budget; else
 * pending.
 */
function statusOf(
  state: string | undefined,
  actions: EventView["actions"],
  errors: EventView["errors"],
): EventStatus {
  // `unknown`: a vobiz action that may have taken effect, waiting for an operator's decision
  if (actions.some((action) => ["dead_letter", "failed", "unknown"].includes(String(action.state))))
    return "failed";
  if (errors.some((error) => error.overBudget)) return "failed";
  if (state !== "dispatched") return "pending";
  return actions.every(
    // `refused`: a vobiz action the loop breaker stopped, as it should
    (action) => action.job === null || ["delivered", "skipped", "refused"].includes(String(action.state)),
  )
    ? "ok"
    : "pending";
}

/**
 * `describe` gives a rule's description (from the loaded ruleset: traces do not copy descriptions, which
 * would cost every retained event their length).
 */
export function eventView(
  id: string,
  trace: Trace,
  describe: (rule: string) => string | undefined = () => undefined,
): EventView {
  const event = tracedEvent(trace);
  const decision = readDecision(id, trace.decision);
  const actions = (decision?.actions ?? []).map((action) => {
    if (action.job === null) return { ...action, attempts: [] };
    const state = actionState(trace, action.rule, action.index);
    return { ...action, ...(state ?? {}), attempts: actionAttempts(trace, action.rule, action.index) };
  });
  const state = decision === undefined ? "received" : "dispatched";
  let payload: unknown;
  try {
    payload = tracePayload(trace);
  } catch {
    payload = null;
  }
  const errors = decision?.errors ?? [];
  return {
    id,
    type: typeof trace.type === "string" ? trace.type : undefined,
    status: statusOf(state, actions, errors),
    state,
    receivedAt: event.receivedAt,
    route: event.route,
    path: event.path,
    query: event.query,
    payload,
    verification: event.verification,
    requestId: typeof trace.requestId === "string" ? trace.requestId : undefined,
    ruleset: decision?.ruleset ?? null,
    matches: (decision?.matched ?? []).map((rule) => ({ ...rule, description: describe(rule.id) ?? null })),
    errors: decision?.errors ?? [],
    answer: trace.answer ?? null,
    actions,
    attempt: event.replay?.attempt ?? 1,
    replayOf: event.replay?.of ?? null,
    replays: replaysOf(trace),
  };
}
