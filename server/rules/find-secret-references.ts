/**
 * Where rule files and templates use `secrets.NAME`, so a load can warn about a secret that is not set
 * (SECRET_NAME missing): the forward that uses it would fail at send time, long after the reload said ok.
 * Pure.
 */
import type { RuleProblem } from "./rule-problems.ts";

const REFERENCE = /\bsecrets\.([A-Za-z0-9_]+)/g;

export interface SourceText {
  /** as problems name it: `rules/crm.json`, `templates/crm-body.njk` */
  file: string;
  text: string;
}

/** One RULE_SECRET_UNSET warning per use of a secret that `available` does not hold. */
export function unsetSecretWarnings(
  sources: readonly SourceText[],
  available: ReadonlySet<string>,
): RuleProblem[] {
  const warnings: RuleProblem[] = [];
  for (const { file, text } of sources) {
    const lines = text.split("\n");
    lines.forEach((content, index) => {
      for (const found of content.matchAll(REFERENCE)) {
        const name = found[1] ?? "";
        if (available.has(name)) continue;
        warnings.push({
          file,
          line: index + 1,
          column: (found.index ?? 0) + 1,
          pointer: "",
          code: "RULE_SECRET_UNSET",
          message: `secrets.${name} is used but SECRET_${name} is not set; a request that needs it will fail until it is`,
        });
      }
    });
  }
  return warnings;
}
