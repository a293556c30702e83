/**
 * Reads every rule file under the rules directory and validates it against the published schema. Every
 * problem is collected (never only the first), each with file, line, JSON pointer, code and message.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { Ajv2020, type ErrorObject } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { createLocator, parseJson } from "./json-location.ts";
import { listFiles } from "./list-files.ts";
import type { RuleFileData } from "./rule-file-types.ts";
import type { RuleProblem } from "./rule-problems.ts";
import { describeSchemaError, usefulErrors } from "./schema-errors.ts";
import schema from "./rule-file-schema.ts";

export interface RuleFile {
  /** the rules folder's name and the path inside it, with forward slashes: `rules/ivr/menu.json` */
  file: string;
  text: string;
  data: RuleFileData;
  locate: (pointer: string) => { line: number; column: number };
}

const ajv = new Ajv2020({
  allErrors: true,
  discriminator: true,
  strict: true,
  strictRequired: false,
  verbose: true,
});
(addFormats as unknown as (ajv: Ajv2020) => void)(ajv);
const validate = ajv.compile(schema);

/** Profile destination keys are case-insensitive on input (SPEC §4.3): they are lower-cased first. */
function normaliseProfiles(data: unknown): void {
  const profiles = (data as { profiles?: unknown } | null)?.profiles;
  if (profiles === null || typeof profiles !== "object" || Array.isArray(profiles)) return;
  for (const [name, destination] of Object.entries(profiles)) {
    if (destination === null || typeof destination !== "object" || Array.isArray(destination)) continue;
    (profiles as Record<string, unknown>)[name] = Object.fromEntries(
      Object.entries(destination as Record<string, unknown>).map(([key, value]) => [
        key.toLowerCase(),
        value,
      ]),
    );
  }
}

export function checkRuleFile(file: string, text: string): { ruleFile?: RuleFile; problems: RuleProblem[] } {
  const parsed = parseJson(text);
  if ("error" in parsed) {
    return {
      problems: [
        {
          file,
          ...parsed.location,
          pointer: "",
          code: "RULE_JSON_SYNTAX",
          message: `${parsed.error}; check for a missing comma, quote or bracket near here`,
        },
      ],
    };
  }
  const locate = createLocator(text);
  normaliseProfiles(parsed.value);
  if (!validate(parsed.value)) {
    const problems = usefulErrors(validate.errors ?? []).flatMap((error: ErrorObject) => {
      const message = describeSchemaError(error);
      if (message === undefined) return [];
      const params = error.params as { propertyName?: string; additionalProperty?: string };
      const key = params.additionalProperty ?? params.propertyName;
      const pointer =
        key === undefined
          ? error.instancePath
          : `${error.instancePath}/${key.replace(/~/g, "~0").replace(/\//g, "~1")}`;
      return [{ file, ...locate(pointer), pointer, code: "RULE_SCHEMA" as const, message }];
    });
    return { problems };
  }
  return { ruleFile: { file, text, data: parsed.value as RuleFileData, locate }, problems: [] };
}

/** `label` prefixes every file name (the rules folder's name, so messages read `rules/ivr.json:12:5`). */
export async function loadRuleFiles(
  rulesDir: string,
  label = path.basename(path.resolve(rulesDir)),
): Promise<{ files: RuleFile[]; problems: RuleProblem[] }> {
  const files: RuleFile[] = [];
  const problems: RuleProblem[] = [];
  for (const full of await listFiles(rulesDir, ".json")) {
    const file = [label, ...path.relative(rulesDir, full).split(path.sep)].join("/");
    let text: string;
    try {
      text = await readFile(full, "utf8");
    } catch (error) {
      problems.push({
        file,
        line: 0,
        column: 0,
        pointer: "",
        code: "RULE_FILE_UNREADABLE",
        message: String(error),
      });
      continue;
    }
    const checked = checkRuleFile(file, text);
    problems.push(...checked.problems);
    if (checked.ruleFile) files.push(checked.ruleFile);
  }
  return { files, problems };
}
