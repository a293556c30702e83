import { compileRuleset, type Ruleset } from "../../server/rules/compile-ruleset.ts";
import type { LogicOptions } from "../../server/rules/json-logic.ts";
import { checkRuleFile } from "../../server/rules/load-rule-files.ts";
import type { RuleProblem } from "../../server/rules/rule-problems.ts";
import type { RuleSpec } from "../../server/rules/rule-file-types.ts";
import { createTemplateEnvironment } from "../../server/templates/template-environment.ts";

/** Compiles rule files given as objects (`name → content`), in memory, with the given templates. */
export function compileFiles(
  files: Record<string, { rules?: Array<Partial<RuleSpec> & { id: string }>; [key: string]: unknown }>,
  templates: Record<string, string> = {},
  options: LogicOptions = { defaultCountry: "IN" },
): { ruleset: Ruleset; problems: RuleProblem[] } {
  const problems: RuleProblem[] = [];
  const loaded = Object.entries(files).flatMap(([name, content]) => {
    const checked = checkRuleFile(`rules/${name}`, JSON.stringify(content, null, 2));
    problems.push(...checked.problems);
    return checked.ruleFile ? [checked.ruleFile] : [];
  });
  const env = createTemplateEnvironment(new Map(Object.entries(templates)), options);
  const compiled = compileRuleset(loaded, env, options);
  return { ruleset: compiled.ruleset, problems: [...problems, ...compiled.problems] };
}

/** A forward action to a fixed URL, for rules whose actions do not matter to a test. */
export const FORWARD = [{ type: "forward" as const, url: "https://example.com/hook" }];
