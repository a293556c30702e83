/**
 * Which rules match an event, in order (SPEC §4.1). Pure: the same ruleset and context give the same
 * answer. With `explain`, every candidate rule says why it did or did not match, down to each
 * sub-condition's value (the dry run).
 *
 * One event's evaluation has a CPU budget (RULE_BUDGET_MS, see evaluation-budget.ts): the clock is read
 * once per evaluated condition, and a condition that loops is stopped from inside (applyLogic). The rule whose condition
 * runs past the budget counts as failed (an entry in `errors`, which the trace and the log carry) and no
 * later rule is evaluated; the rules decided before it stand.
 */
import jsonLogic from "json-logic-js";
import { matchesEventName } from "../events/event-type.ts";
import type { EventContext } from "../events/build-context.ts";
import type { CompiledRule, Ruleset } from "./compile-ruleset.ts";
import { EvaluationBudget } from "./evaluation-budget.ts";
import { applyLogic, BudgetExceeded, explainLogic, type Explanation } from "./json-logic.ts";

/** Time one event's conditions may take on the main thread, in milliseconds (see evaluation-budget.ts). */
export const RULE_BUDGET_MS = 50;

export interface RuleVerdict {
  id: string;
  matched: boolean;
  /** the first check that failed, when not matched */
  failed?: "on" | "path" | "scope" | "when" | "stopped" | "superseded" | "error";
  when?: Explanation;
  error?: string;
}

export interface Evaluation {
  matched: CompiledRule[];
  /** conditions that threw or ran past the budget (the rule counts as not matched) */
  errors: Array<{ id: string; error: string; overBudget?: true }>;
  /** the budget ran out: the rule named last in `errors` and every rule after it were not decided */
  overBudget?: true;
  /** with `explain`: every candidate rule's verdict, in evaluation order */
  verdicts?: RuleVerdict[];
}

function scopeMatches(rule: CompiledRule, context: EventContext): boolean {
  if (rule.scope === undefined) return true;
  const scope = context.meta.scope;
  return Object.entries(rule.scope).every(([key, value]) => scope[key as keyof typeof scope] === value);
}

function verdictOf(
  rule: CompiledRule,
  failed: RuleVerdict["failed"],
  extra: Partial<RuleVerdict> = {},
): RuleVerdict {
  return { id: rule.id, matched: failed === undefined, ...(failed ? { failed } : {}), ...extra };
}

export function evaluateRules(
  ruleset: Ruleset,
  context: EventContext,
  options: { explain?: boolean; budgetMs?: number } = {},
): Evaluation {
  const type = context.meta.type;
  const budgetMs = options.budgetMs ?? RULE_BUDGET_MS;
  const budget = new EvaluationBudget(budgetMs);
  let overBudget = false;
  const matched: CompiledRule[] = [];
  const errors: Evaluation["errors"] = [];
  const verdicts: RuleVerdict[] | undefined = options.explain ? [] : undefined;
  let stopBelow: number | undefined;
  const groupsTaken = new Set<string>();
  // no closure per rule: this loop runs for every event
  for (const rule of ruleset.candidates(type.toLowerCase())) {
    if (stopBelow !== undefined && rule.priority < stopBelow) {
      verdicts?.push(verdictOf(rule, "stopped"));
      continue;
    }
    if (!rule.on.some((name) => matchesEventName(name, type, context))) {
      verdicts?.push(verdictOf(rule, "on"));
      continue;
    }
    if (rule.matchPath && !rule.matchPath(context.meta.path)) {
      verdicts?.push(verdictOf(rule, "path"));
      continue;
    }
    if (!scopeMatches(rule, context)) {
      verdicts?.push(verdictOf(rule, "scope"));
      continue;
    }
    let truthy: boolean;
    try {
      truthy = jsonLogic.truthy(applyLogic(rule.logic, context, budget));
      if (budget.spent()) throw new BudgetExceeded();
    } catch (error) {
      const message =
        error instanceof BudgetExceeded
          ? `evaluation stopped: the event's conditions ran past their CPU budget (${budgetMs} ms); this rule and the ones after it were not evaluated`
          : (error as Error).message;
      verdicts?.push(verdictOf(rule, "error", { error: message }));
      if (error instanceof BudgetExceeded) {
        errors.push({ id: rule.id, error: message, overBudget: true });
        overBudget = true;
        break;
      }
      errors.push({ id: rule.id, error: message });
      continue;
    }
    // explaining re-evaluates every sub-condition: bounded on its own, and not counted in the budget
    const explanation = verdicts
      ? budget.exclude(() => ({ when: explainLogic(rule.logic, context, new EvaluationBudget(budgetMs)) }))
      : {};
    if (!truthy) {
      verdicts?.push(verdictOf(rule, "when", explanation));
      continue;
    }
    if (rule.group !== undefined) {
      // the callbacks hierarchy: the most specific level (the first in order) that accepts the event wins
      if (groupsTaken.has(rule.group)) {
        verdicts?.push(verdictOf(rule, "superseded", explanation));
        continue;
      }
      groupsTaken.add(rule.group);
    }
    matched.push(rule);
    verdicts?.push(verdictOf(rule, undefined, explanation));
    if (rule.stop) stopBelow = rule.priority;
  }
  const evaluation: Evaluation = verdicts ? { matched, errors, verdicts } : { matched, errors };
  if (overBudget) evaluation.overBudget = true;
  return evaluation;
}
