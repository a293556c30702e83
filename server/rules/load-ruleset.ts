/**
 * Loads and validates everything a ruleset is made of (SPEC §4.5): rule files (schema, duplicate ids,
 * JsonLogic operations, profiles), templates (syntax, missing files, XML replies rendered against a sample
 * event), and every rule test. Returns the compiled ruleset only when there is no problem at all; either
 * way every problem is listed, located. Warnings (XML replies that use what Vobiz's own documents
 * disagree about) are listed, located, beside the problems and never stop a load. Reads the disk once, so the version hash describes exactly what
 * was compiled.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { ContextOptions } from "../events/build-context.ts";
import {
  createTemplateEnvironment,
  describeTemplateError,
  type CompiledTemplate,
  type TemplateEnvironment,
} from "../templates/template-environment.ts";
import { templateContext } from "../actions/render-context.ts";
import { inspectVobizXml } from "../templates/check-vobiz-xml.ts";
import { compileRulesetInTurns, type Ruleset } from "./compile-ruleset.ts";
import { unsetSecretWarnings } from "./find-secret-references.ts";
import { listFiles } from "./list-files.ts";
import { loadRuleFiles } from "./load-rule-files.ts";
import { formatProblem, type RuleProblem } from "./rule-problems.ts";
import { rulesetVersion, type RulesetVersion } from "./ruleset-version.ts";
import { describeFailure, runRuleTest, testEvent, type RuleTestResult } from "./run-rule-tests.ts";

export interface LoadedRuleset {
  ruleset: Ruleset;
  templates: TemplateEnvironment;
  /** templates/default.xml: the reply when no rule responds */
  defaultReply: CompiledTemplate | undefined;
  /** templates/fallback.xml: the reply when a rule or template fails */
  fallbackReply: CompiledTemplate | undefined;
  /** per rule file: its own `fallback` template */
  fileFallbacks: ReadonlyMap<string, CompiledTemplate>;
  tests: RuleTestResult[];
  /** accepted, but worth a look: shown by GET /admin/rules */
  warnings: RuleProblem[];
}

export interface LoadOptions {
  rulesDir: string;
  templatesDir: string;
  context: ContextOptions;
  /** names of the SECRET_* variables set; when given, each use of another secret is a warning */
  secretNames?: ReadonlySet<string>;
}

export interface LoadResult {
  /** present only when there are no problems */
  loaded?: LoadedRuleset;
  version?: RulesetVersion;
  problems: RuleProblem[];
  /**
   * findings that do not stop a load, whether or not the ruleset loaded: TEMPLATE_XML_DISPUTED,
   * RULE_SECRET_UNSET (`check --strict` treats the warnings as problems)
   */
  warnings: RuleProblem[];
  tests: RuleTestResult[];
}

/** An answer request as Vobiz sends it, for rendering XML templates that have no tests of their own. */
export const SAMPLE_ANSWER_EVENT = {
  Event: "StartApp", CallUUID: "2b4c6c9e-0f3a-4f6e-9d55-7a1b2c3d4e5f", From: "919876543210", To: "918040001234",
  Direction: "inbound", CallStatus: "in-progress", Digits: "1", Speech: "", CallerName: "",
}; // prettier-ignore

const sampleFor = (options: LoadOptions): ReturnType<typeof testEvent> =>
  testEvent({ path: "/answer", event: SAMPLE_ANSWER_EVENT }, options.context);

async function readTemplates(templatesDir: string): Promise<Map<string, string>> {
  const sources = new Map<string, string>();
  for (const full of await listFiles(templatesDir)) {
    sources.set(path.relative(templatesDir, full).split(path.sep).join("/"), await readFile(full, "utf8"));
  }
  return sources;
}

export async function loadRuleset(options: LoadOptions): Promise<LoadResult> {
  const { rulesDir, templatesDir } = options;
  const rulesLabel = path.basename(path.resolve(rulesDir));
  const templatesLabel = path.basename(path.resolve(templatesDir));
  const { files, problems } = await loadRuleFiles(rulesDir, rulesLabel);
  const sources = await readTemplates(templatesDir);
  const templates = createTemplateEnvironment(sources, { defaultCountry: options.context.defaultCountry });

  const compiledFiles = new Map<string, CompiledTemplate>();
  for (const name of sources.keys()) {
    if (!name.endsWith(".xml")) continue;
    try {
      compiledFiles.set(name, templates.file(name, "xml"));
    } catch (error) {
      const found = describeTemplateError(name, error);
      const atEnd = found.line === 0; // "expected endif, got end of file" has no position: point at the end
      problems.push({
        file: `${templatesLabel}/${name}`,
        line: atEnd ? (sources.get(name) ?? "").trimEnd().split("\n").length : found.line,
        column: atEnd ? 1 : found.column,
        pointer: "",
        code: "TEMPLATE_SYNTAX",
        message: `template does not compile: ${found.message}`,
      });
    }
  }

  const { ruleset, problems: compileProblems } = await compileRulesetInTurns(
    files,
    templates,
    options.context,
  );
  problems.push(...compileProblems);
  const loaded: LoadedRuleset = {
    ruleset,
    templates,
    defaultReply: compiledFiles.get("default.xml"),
    fallbackReply: compiledFiles.get("fallback.xml"),
    fileFallbacks: new Map(),
    tests: [],
    warnings: [],
  };
  const warnings: RuleProblem[] = [];
  const seenWarnings = new Set<string>();
  const warn = (warning: Omit<RuleProblem, "code">): void => {
    const full: RuleProblem = { ...warning, code: "TEMPLATE_XML_DISPUTED" };
    const key = formatProblem(full);
    if (seenWarnings.has(key)) return; // one reply rendered by several tests says it once
    seenWarnings.add(key);
    warnings.push(full);
  };
  const fileFallbacks = loaded.fileFallbacks as Map<string, CompiledTemplate>;
  for (const file of files) {
    const name = file.data.fallback;
    if (name === undefined) continue;
    const template = compiledFiles.get(name);
    if (template) fileFallbacks.set(file.file, template);
    else {
      problems.push({
        file: file.file,
        ...file.locate("/fallback"),
        pointer: "/fallback",
        code: "TEMPLATE_MISSING",
        message: `no XML template "${name}" under TEMPLATES_DIR; the fallback must be an .xml file there`,
      });
    }
  }
  for (const name of ["default.xml", "fallback.xml"]) {
    const template = compiledFiles.get(name);
    if (template === undefined) continue;
    try {
      const xml = template.render(
        templateContext({ ...sampleFor(options), rule: { id: name, description: undefined } }),
      );
      const found = inspectVobizXml(xml);
      for (const problem of found.problems) {
        problems.push({
          file: `${templatesLabel}/${name}`,
          line: 0,
          column: 0,
          pointer: "",
          code: "TEMPLATE_INVALID_XML",
          message: `${problem.at}: ${problem.message}`,
        });
      }
      for (const warning of found.warnings) {
        warn({
          file: `${templatesLabel}/${name}`,
          line: 0,
          column: 0,
          pointer: "",
          message: `${warning.at}: ${warning.message}`,
        });
      }
    } catch (error) {
      problems.push({
        file: `${templatesLabel}/${name}`,
        line: 0,
        column: 0,
        pointer: "",
        code: "TEMPLATE_RENDER",
        message: describeTemplateError(name, error).message,
      });
    }
  }

  // XML replies of rules without tests are rendered once against a sample answer request
  const sample = sampleFor(options);
  for (const rule of ruleset.rules) {
    if (rule.tests.length > 0) continue;
    // a rule whose templates did not compile already has its problem; rendering it would only repeat it
    if (problems.some((p) => p.file === rule.file && p.pointer.startsWith(`${rule.pointer}/`))) continue;
    for (const action of rule.compiled) {
      if (action.type !== "respond") continue;
      try {
        const rendered = action.render({ ...sample, rule: { id: rule.id, description: rule.description } });
        if (rendered.type === "respond") {
          const found = inspectVobizXml(rendered.xml);
          for (const problem of found.problems) {
            problems.push({
              file: rule.file,
              line: rule.line,
              column: 1,
              pointer: `${rule.pointer}/actions/${action.index}`,
              code: "TEMPLATE_INVALID_XML",
              message: `the reply is not valid Vobiz XML: ${problem.at}: ${problem.message}`,
            });
          }
          for (const warning of found.warnings) {
            const pointer = `${rule.pointer}/actions/${action.index}`;
            warn({
              file: rule.file,
              ...rule.locate(pointer),
              pointer,
              message: `the reply is accepted, but ${warning.at}: ${warning.message}`,
            });
          }
        }
      } catch (error) {
        problems.push({
          file: rule.file,
          line: rule.line,
          column: 1,
          pointer: `${rule.pointer}/actions/${action.index}`,
          code: "TEMPLATE_RENDER",
          message: `the reply fails for a sample answer request: ${describeTemplateError("", error).message}; add "| default(...)" or a rule test with the fields it needs`,
        });
      }
    }
  }

  const tests: RuleTestResult[] = [];
  if (problems.length === 0) {
    let turn = performance.now();
    for (const rule of ruleset.rules) {
      rule.tests.forEach((test, index) =>
        tests.push(runRuleTest(loaded, rule, test, index, options.context)),
      );
      if (performance.now() - turn > 5) {
        await new Promise((resolve) => setImmediate(resolve)); // let requests through during a big reload
        turn = performance.now();
      }
    }
  }
  const testWarnings = new Set<string>();
  for (const result of tests) {
    for (const warning of result.warnings ?? []) {
      // a reply rendered by several tests of a rule is warned about once, at the first
      const key = `${result.rule}\n${warning}`;
      if (testWarnings.has(key)) continue;
      testWarnings.add(key);
      warn({
        file: result.file,
        line: result.line,
        column: 1,
        pointer: result.pointer,
        message: `rule "${result.rule}", test "${result.name}": the reply is accepted, but ${warning}`,
      });
    }
    for (const failure of result.failures) {
      problems.push({
        file: result.file,
        line: result.line,
        column: 1,
        pointer: result.pointer,
        code: "RULE_TEST_FAILED",
        message: `rule "${result.rule}", test "${result.name}": ${describeFailure(failure)}`,
      });
    }
  }
  if (options.secretNames !== undefined) {
    warnings.push(
      ...unsetSecretWarnings(
        [
          ...files.map(({ file, text }) => ({ file, text })),
          ...[...sources].map(([name, text]) => ({ file: `${templatesLabel}/${name}`, text })),
        ],
        options.secretNames,
      ),
    );
  }
  const byPlace = (x: RuleProblem, y: RuleProblem): number =>
    x.file.localeCompare(y.file) || x.line - y.line || x.column - y.column;
  problems.sort(byPlace);
  warnings.sort(byPlace);
  if (problems.length > 0) return { problems, warnings, tests };
  const version = await rulesetVersion(
    [
      ...files.map((file) => [file.file, file.text] as const),
      ...[...sources].map(([name, text]) => [`${templatesLabel}/${name}`, text] as const),
    ],
    rulesDir,
  );
  return { loaded: { ...loaded, tests, warnings }, version, problems, warnings, tests };
}
