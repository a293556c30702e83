/**
 * Turns validated rule files into a ruleset: rules in evaluation order (priority, then file path, then
 * position), indexed by the concrete event types they can match, with every cross-file problem found:
 * duplicate ids (both places named), unknown or unsafe JsonLogic operations, bad literal arguments, path
 * globs, unknown profiles. Pure.
 */
import picomatch from "picomatch";
import { KNOWN_EVENT_NAMES, isKnownEventName } from "../events/event-names.ts";
import { typesForName } from "../events/event-type.ts";
import { compileActions, type CompiledAction } from "../actions/compile-actions.ts";
import type { TemplateEnvironment } from "../templates/template-environment.ts";
import { callbacksRules, kaleyraRules, type DerivedRule } from "./compile-callbacks.ts";
import { bindLogic, checkLogic, type LogicOptions } from "./json-logic.ts";
import type { RuleFile } from "./load-rule-files.ts";
import type { Action, Destination, RuleSpec, RuleTest } from "./rule-file-types.ts";
import type { RuleProblem } from "./rule-problems.ts";
import { closest } from "./schema-errors.ts";

export interface CompiledRule {
  id: string;
  description: string | undefined;
  file: string;
  line: number;
  /** JSON pointer of the rule in its file */
  pointer: string;
  /** line and column of any JSON pointer in the rule's file */
  locate: (pointer: string) => { line: number; column: number };
  on: string[];
  paths: string[];
  matchPath: ((path: string) => boolean) | undefined;
  scope: RuleSpec["scope"];
  /** the condition as written */
  when: unknown;
  /** the condition as evaluated (`when` with the configuration bound in: bindLogic) */
  logic: unknown;
  priority: number;
  stop: boolean;
  enabled: boolean;
  actions: Action[];
  /** the actions with their templates compiled */
  compiled: CompiledAction[];
  tests: RuleTest[];
  /** position in the whole ruleset before sorting (files by path, rules in file order) */
  order: number;
  /** the section it was written in: rules, or compiled from callbacks / callback */
  source: "rules" | "callbacks" | "callback";
  /** exclusive group: only the first matching rule of a group counts (the callbacks hierarchy) */
  group?: string;
}

export interface Ruleset {
  /** every rule, enabled or not, in evaluation order */
  rules: CompiledRule[];
  profiles: ReadonlyMap<string, { destination: Destination; file: string }>;
  /** enabled rules that can match an event of this (lower-case) type, in evaluation order */
  candidates(type: string): readonly CompiledRule[];
  /** per file: the XML fallback template it names */
  fallbacks: ReadonlyMap<string, string>;
  /** a rule by its id (action jobs look theirs up once per attempt) */
  rule(id: string): CompiledRule | undefined;
}

const list = (value: string | string[] | undefined, fallback: string[]): string[] =>
  value === undefined ? fallback : Array.isArray(value) ? value : [value];

type Compiled = { ruleset: Ruleset; problems: RuleProblem[] };

export function compileRuleset(
  files: readonly RuleFile[],
  templates: TemplateEnvironment,
  options: LogicOptions,
): Compiled {
  const steps = compileSteps(files, templates, options);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/**
 * The same, giving the event loop a turn every few milliseconds, so a reload of thousands of rules never
 * holds up requests that arrive meanwhile.
 */
export async function compileRulesetInTurns(
  files: readonly RuleFile[],
  templates: TemplateEnvironment,
  options: LogicOptions,
): Promise<Compiled> {
  const steps = compileSteps(files, templates, options);
  let turn = performance.now();
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    if (performance.now() - turn > 5) {
      await new Promise((resolve) => setImmediate(resolve));
      turn = performance.now();
    }
  }
}

function* compileSteps(
  files: readonly RuleFile[],
  templates: TemplateEnvironment,
  options: LogicOptions,
): Generator<void, Compiled> {
  const problems: RuleProblem[] = [];
  const problem = (file: RuleFile, pointer: string, code: RuleProblem["code"], message: string): void => {
    problems.push({ file: file.file, ...file.locate(pointer), pointer, code, message });
  };

  const profiles = new Map<string, { destination: Destination; file: string }>();
  const fallbacks = new Map<string, string>();
  for (const file of files) {
    if (file.data.fallback !== undefined) fallbacks.set(file.file, file.data.fallback);
    for (const [name, destination] of Object.entries(file.data.profiles ?? {})) {
      const earlier = profiles.get(name);
      if (earlier) {
        problem(
          file,
          `/profiles/${name}`,
          "RULE_DUPLICATE_ID",
          `profile "${name}" is also defined in ${earlier.file}; rename one`,
        );
      } else {
        profiles.set(name, { destination, file: file.file });
      }
    }
  }

  const rules: CompiledRule[] = [];
  const seen = new Map<string, CompiledRule>();
  let order = 0;
  for (const file of files) {
    const entries: DerivedRule[] = (file.data.rules ?? []).map((spec, index) => ({
      spec,
      pointer: `/rules/${index}`,
      source: "rules",
    }));
    entries.push(...callbacksRules(file.data.callbacks));
    const kaleyra = kaleyraRules(file.data.callback, profiles);
    for (const found of kaleyra.problems) problem(file, found.pointer, found.code, found.message);
    entries.push(...kaleyra.derived);
    for (const { spec, pointer, source, group } of entries) {
      const idPointer = source === "rules" ? `${pointer}/id` : pointer;
      const earlier = seen.get(spec.id);
      if (earlier) {
        problem(
          file,
          idPointer,
          "RULE_DUPLICATE_ID",
          `rule id "${spec.id}" is already used at ${earlier.file}:${earlier.line}; rule ids must be unique across the ruleset`,
        );
      }
      if (source === "rules") {
        for (const found of unknownEventNames(spec.on, file.data.custom_events ?? [], `${pointer}/on`))
          problem(file, found.pointer, "RULE_UNKNOWN_EVENT", found.message);
      }
      for (const found of checkLogic(spec.when, `${pointer}/when`))
        problem(file, found.pointer, found.code, found.message);
      const paths = list(spec.path, []);
      let matchPath: CompiledRule["matchPath"];
      try {
        const matchers = paths.map((glob) => picomatch(glob, { dot: true, strictSlashes: true }));
        matchPath = matchers.length === 0 ? undefined : (path) => matchers.some((match) => match(path));
      } catch (error) {
        problem(
          file,
          `${pointer}/path`,
          "RULE_INVALID_PATH",
          `not a valid glob: ${(error as Error).message}`,
        );
      }
      spec.actions.forEach((action, actionIndex) => {
        if (action.type === "forward" && action.profile !== undefined && !profiles.has(action.profile)) {
          const known = [...profiles.keys()];
          problem(
            file,
            `${pointer}/actions/${actionIndex}/profile`,
            "RULE_UNKNOWN_PROFILE",
            `no profile "${action.profile}" in any rule file; ${known.length > 0 ? `defined: ${known.join(", ")}` : 'define it under "profiles"'}`,
          );
        }
      });
      const compiled = compileActions(spec.actions, {
        pointer: `${pointer}/actions`,
        file: file.file,
        templates,
        profile: (name) => profiles.get(name)?.destination,
      });
      for (const found of compiled.problems) problem(file, found.pointer, found.code, found.message);
      const rule: CompiledRule = {
        id: spec.id,
        description: spec.description,
        file: file.file,
        line: file.locate(pointer).line,
        pointer,
        locate: file.locate,
        on: list(spec.on, ["*"]),
        paths,
        matchPath,
        scope: spec.scope,
        when: spec.when ?? true,
        logic: bindLogic(spec.when ?? true, options),
        priority: spec.priority ?? 0,
        stop: spec.stop ?? false,
        enabled: spec.enabled ?? true,
        actions: spec.actions,
        compiled: compiled.actions,
        tests: spec.tests ?? [],
        order: (order += 1),
        source,
        ...(group === undefined ? {} : { group }),
      };
      if (!earlier) seen.set(spec.id, rule);
      rules.push(rule);
    }
    yield;
  }
  rules.sort((a, b) => b.priority - a.priority || a.order - b.order);
  return { ruleset: indexRuleset(rules, profiles, fallbacks), problems };
}

/** Names in `on` that are neither Vobiz events, aliases, `*`, nor declared in the file's `custom_events`. */
function unknownEventNames(
  on: string | string[] | undefined,
  declared: readonly string[],
  pointer: string,
): Array<{ pointer: string; message: string }> {
  if (on === undefined) return [];
  const names = Array.isArray(on) ? on : [on];
  return names.flatMap((name, index) => {
    if (isKnownEventName(name, declared)) return [];
    const guess = closest(name, KNOWN_EVENT_NAMES);
    return [
      {
        pointer: Array.isArray(on) ? `${pointer}/${index}` : pointer,
        message: `unknown event "${name}"${guess ? `; did you mean "${guess}"?` : ""} (a Vobiz event such as Hangup or StartApp, an alias such as call_end, or "*"; list a deliberate custom name in the file's "custom_events")`,
      },
    ];
  });
}

function indexRuleset(
  rules: CompiledRule[],
  profiles: Ruleset["profiles"],
  fallbacks: Ruleset["fallbacks"],
): Ruleset {
  const byType = new Map<string, CompiledRule[]>();
  const any: CompiledRule[] = [];
  for (const rule of rules) {
    if (!rule.enabled) continue;
    const types = new Set(rule.on.flatMap(typesForName));
    if (types.has("*")) {
      any.push(rule);
      continue;
    }
    for (const type of types) {
      let bucket = byType.get(type);
      if (bucket === undefined) byType.set(type, (bucket = []));
      bucket.push(rule);
    }
  }
  const merged = new Map<string, readonly CompiledRule[]>();
  const byId = new Map<string, CompiledRule>();
  for (const rule of rules) if (!byId.has(rule.id)) byId.set(rule.id, rule);
  return {
    rules,
    profiles,
    fallbacks,
    rule: (id) => byId.get(id),
    candidates(type) {
      let result = merged.get(type);
      if (result === undefined) {
        const specific = byType.get(type) ?? [];
        result =
          any.length === 0
            ? specific
            : [...specific, ...any].sort((a, b) => b.priority - a.priority || a.order - b.order);
        if (merged.size < 10_000) merged.set(type, result);
      }
      return result;
    },
  };
}
