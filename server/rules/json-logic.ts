/**
 * JsonLogic as Switchboard uses it: json-logic-js semantics plus the operations of SPEC §4.1, an allow-list
 * checked at load (an unknown operation is a load error, never a silent false), and an explain mode that
 * records each sub-condition's value for the dry run.
 */
import jsonLogic, { type RulesLogic } from "json-logic-js";
import { RE2JS } from "re2js";
import { toE164 } from "../events/phone-number.ts";
import type { EvaluationBudget } from "./evaluation-budget.ts";

type Data = { meta?: { receivedAt?: string } } | undefined;

const WEEKDAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;
const zoneFormats = new Map<string, Intl.DateTimeFormat>();
const regexes = new Map<string, RE2JS>();

function zoneFormat(timeZone: string): Intl.DateTimeFormat {
  let format = zoneFormats.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hour: "numeric",
      minute: "numeric",
      weekday: "short",
      hourCycle: "h23",
    });
    zoneFormats.set(timeZone, format);
  }
  return format;
}

export function isTimeZone(value: unknown): boolean {
  if (typeof value !== "string" || value === "") return false;
  try {
    zoneFormat(value);
    return true;
  } catch {
    return false;
  }
}

/** Hour, minute and weekday of an instant in a time zone. */
export function zonedTime(at: Date, timeZone: string): { hour: number; minute: number; weekday: string } {
  const parts = zoneFormat(timeZone).formatToParts(at);
  const get = (type: string): string => parts.find((part) => part.type === type)?.value ?? "";
  const weekday = get("weekday").slice(0, 3).toLowerCase();
  return {
    hour: Number(get("hour")),
    minute: Number(get("minute")),
    weekday: WEEKDAYS.find((d) => d === weekday) ?? weekday,
  };
}

function eventTime(data: Data): Date {
  const at = data?.meta?.receivedAt;
  return at ? new Date(at) : new Date();
}

const TIME_RE = /^([01][0-9]|2[0-3]):([0-5][0-9])$/;
const minutesOf = (time: string): number => {
  const [hours = "0", minutes = "0"] = time.split(":");
  return Number(hours) * 60 + Number(minutes);
};

/**
 * A `matches` pattern, compiled once (at load) and cached. RE2 syntax (re2js, pure JavaScript): matching
 * takes time linear in the input, so no pattern can backtrack catastrophically; backreferences and
 * lookaround, which need backtracking, do not compile and are refused at load.
 */
export function regex(pattern: string): RE2JS {
  let compiled = regexes.get(pattern);
  if (compiled === undefined) {
    compiled = RE2JS.compile(pattern);
    // patterns come from rule files (checked at load), so this only bounds what many reloads leave behind
    if (regexes.size >= 10_000) regexes.clear();
    regexes.set(pattern, compiled);
  }
  return compiled;
}

/** Thrown inside a condition whose evaluation's budget is spent (see applyLogic). */
export class BudgetExceeded extends Error {
  constructor() {
    super("the condition ran past the evaluation's CPU budget");
    this.name = "BudgetExceeded";
  }
}

// json-logic-js evaluates every sub-condition (including each item of map/filter/reduce/all/some/none)
// through the exported `apply`, so wrapping it bounds one condition however it loops: every 1024th
// node looks at the clock. Outside a budgeted evaluation the wrapper only compares with undefined.
let budget: EvaluationBudget | undefined;
let ticks = 0;
const unbudgetedApply = jsonLogic.apply;
jsonLogic.apply = (logic, data) => {
  if (budget !== undefined && (ticks = (ticks + 1) & 1023) === 0 && budget.spent())
    throw new BudgetExceeded();
  return unbudgetedApply(logic, data) as unknown;
};

/** The operations Switchboard adds (SPEC §4.1). `this` is the event context (json-logic-js binds it). */
const EXTRA_OPERATIONS: Record<string, (this: Data, ...args: unknown[]) => unknown> = {
  // the third argument is DEFAULT_COUNTRY, added by bindLogic: used when the rule gives no country
  e164(value, country, defaultCountry) {
    const fallback = typeof defaultCountry === "string" ? defaultCountry : undefined;
    return toE164(value, typeof country === "string" ? country : fallback);
  },
  matches(value, pattern) {
    // the pattern is a string literal of the rule file, compiled at load (checkLogic)
    return typeof value === "string" && typeof pattern === "string" && regex(pattern).test(value);
  },
  starts_with(value, prefix) {
    return typeof value === "string" && typeof prefix === "string" && value.startsWith(prefix);
  },
  ends_with(value, suffix) {
    return typeof value === "string" && typeof suffix === "string" && value.endsWith(suffix);
  },
  hour_in(timeZone) {
    return zonedTime(eventTime(this), String(timeZone)).hour;
  },
  weekday_in(timeZone) {
    return zonedTime(eventTime(this), String(timeZone)).weekday;
  },
  between_times(from, to, timeZone) {
    // times can come from event data: anything but "HH:MM" is no time, and no time is between
    if (typeof from !== "string" || typeof to !== "string" || !TIME_RE.test(from) || !TIME_RE.test(to))
      return false;
    const { hour, minute } = zonedTime(eventTime(this), String(timeZone));
    const now = hour * 60 + minute;
    const start = minutesOf(from);
    const end = minutesOf(to);
    return start <= end ? now >= start && now < end : now >= start || now < end; // "22:00"-"06:00" spans midnight
  },
};
for (const [name, operation] of Object.entries(EXTRA_OPERATIONS)) jsonLogic.add_operation(name, operation);

/** json-logic-js's operations that rules may use: all but `method` (calls any method of the data) and `log`. */
const BUILT_IN = [
  "==", "===", "!=", "!==", ">", ">=", "<", "<=", "!!", "!", "%", "in", "cat", "substr", "+", "*", "-", "/",
  "min", "max", "merge", "var", "missing", "missing_some", "if", "?:", "and", "or", "filter", "map", "reduce",
  "all", "none", "some",
]; // prettier-ignore
export const ALLOWED_OPERATIONS: readonly string[] = [...BUILT_IN, ...Object.keys(EXTRA_OPERATIONS)];
const ALLOWED = new Set(ALLOWED_OPERATIONS);

export interface LogicProblem {
  pointer: string;
  code: "RULE_UNKNOWN_OPERATION" | "RULE_INVALID_ARGUMENT";
  message: string;
}

const isOperation = (node: unknown): node is Record<string, unknown> =>
  node !== null && typeof node === "object" && !Array.isArray(node) && Object.keys(node).length === 1;

/** Unknown operations and literal arguments that cannot work, with JSON pointers relative to `pointer`. */
export function checkLogic(logic: unknown, pointer: string): LogicProblem[] {
  const problems: LogicProblem[] = [];
  const walk = (node: unknown, at: string): void => {
    if (Array.isArray(node)) {
      node.forEach((item, i) => walk(item, `${at}/${i}`));
      return;
    }
    if (!isOperation(node)) return;
    const [op, rawArgs] = Object.entries(node)[0] as [string, unknown];
    const opPointer = `${at}/${op.replace(/~/g, "~0").replace(/\//g, "~1")}`;
    if (!ALLOWED.has(op)) {
      const hint = op === "method" || op === "log" ? " (not allowed in rule files)" : "";
      problems.push({
        pointer: opPointer,
        code: "RULE_UNKNOWN_OPERATION",
        message: `unknown operation "${op}"${hint}; use one of: ${ALLOWED_OPERATIONS.join(" ")}`,
      });
    }
    const args = Array.isArray(rawArgs) ? rawArgs : [rawArgs];
    checkArguments(op, args, opPointer, problems);
    walk(rawArgs, opPointer);
  };
  walk(logic, pointer);
  return problems;
}

function checkArguments(op: string, args: unknown[], at: string, problems: LogicProblem[]): void {
  const invalid = (index: number, message: string): void => {
    problems.push({ pointer: `${at}/${index}`, code: "RULE_INVALID_ARGUMENT", message });
  };
  if (op === "matches") {
    if (args.length !== 2) {
      problems.push({
        pointer: at,
        code: "RULE_INVALID_ARGUMENT",
        message: `"matches" takes two arguments, a value and a pattern, such as [{"var": "To"}, "^9180"]; found ${args.length}`,
      });
    } else if (typeof args[1] !== "string") {
      invalid(
        1,
        `the pattern must be a string written in the rule, such as "^9180"; found ${JSON.stringify(args[1])} (a pattern taken from the event could be made to match anything)`,
      );
    } else {
      try {
        regex(args[1]);
      } catch (error) {
        invalid(
          1,
          `not a valid RE2 regular expression: ${(error as Error).message} (backreferences and lookaround are not supported, so matching stays linear in time)`,
        );
      }
    }
  }
  const zoneIndex = op === "between_times" ? 2 : op === "hour_in" || op === "weekday_in" ? 0 : -1;
  if (zoneIndex >= 0 && typeof args[zoneIndex] !== "object" && !isTimeZone(args[zoneIndex])) {
    invalid(
      zoneIndex,
      `${JSON.stringify(args[zoneIndex])} is not a time zone; use an IANA name such as "Asia/Kolkata"`,
    );
  }
  if (op === "between_times") {
    for (const index of [0, 1]) {
      const value = args[index];
      if (typeof value === "string" ? !TIME_RE.test(value) : typeof value !== "object") {
        invalid(index, `${JSON.stringify(value)} is not a time; write "HH:MM" such as "09:00"`);
      }
    }
  }
}

/** What a condition needs from the configuration, bound into it at compile time. */
export interface LogicOptions {
  /** DEFAULT_COUNTRY: the country of `e164` when the rule names none */
  defaultCountry: string;
}

/**
 * A condition as it is evaluated: every `e164` gets DEFAULT_COUNTRY as a third argument. The operations
 * stay pure and shared (json-logic-js keeps one table for the process), and a ruleset compiled for one
 * country never sees another's.
 */
export function bindLogic(logic: unknown, options: LogicOptions): unknown {
  if (Array.isArray(logic)) return logic.map((item: unknown) => bindLogic(item, options));
  if (!isOperation(logic)) return logic;
  const [op, rawArgs] = Object.entries(logic)[0] as [string, unknown];
  const bound = bindLogic(rawArgs, options);
  if (op !== "e164") return { [op]: bound };
  const [value = null, country = null] = Array.isArray(bound) ? (bound as unknown[]) : [bound];
  return { e164: [value, country, options.defaultCountry] };
}

/**
 * Evaluates a condition. With a budget, a condition still running when the budget is spent throws
 * BudgetExceeded, so a heavy condition cannot hold the event loop much past its evaluation's budget.
 */
export function applyLogic(logic: unknown, data: unknown, within?: EvaluationBudget): unknown {
  if (within === undefined) return jsonLogic.apply(logic as RulesLogic, data);
  budget = within;
  try {
    return jsonLogic.apply(logic as RulesLogic, data);
  } finally {
    budget = undefined;
  }
}

export interface Explanation {
  /** the (sub-)condition */
  logic: unknown;
  value: unknown;
  /** explanations of the arguments that are conditions themselves */
  args?: Explanation[];
}

/** Each sub-condition with the value it had, for the dry run. */
export function explainLogic(logic: unknown, data: unknown, within?: EvaluationBudget): Explanation {
  let value: unknown;
  try {
    value = applyLogic(logic, data, within);
  } catch (error) {
    value = `error: ${(error as Error).message}`;
  }
  if (!isOperation(logic)) return { logic, value };
  const rawArgs = Object.values(logic)[0];
  const args = (Array.isArray(rawArgs) ? rawArgs : [rawArgs]).filter(
    (arg) => isOperation(arg) || Array.isArray(arg),
  );
  return args.length === 0
    ? { logic, value }
    : { logic, value, args: args.map((arg) => explainLogic(arg, data, within)) };
}
