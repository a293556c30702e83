/**
 * `switchboard test [dir]`: runs every rule test offline (the same runner a reload uses) and prints each
 * failure with its name, file and line, why, and a diff of expected and actual; ends with
 * `N passed, N failed`. `--filter` runs the tests whose name or rule id contains a text; `--update`
 * rewrites failing `xml` expectations from the actual replies.
 */
import { loadRuleset } from "../rules/load-ruleset.ts";
import { formatProblem } from "../rules/rule-problems.ts";
import type { ExpectationFailure, RuleTestResult } from "../rules/run-rule-tests.ts";
import { flag, stringOption, type CliCommand, type CliIo } from "./cli-command.ts";
import { paint, type Paint } from "./paint.ts";
import { RULES_TARGET_HELP, RULES_TARGET_OPTIONS, rulesTarget } from "./rules-target.ts";
import { diffLines } from "./show-diff.ts";
import { updateXmlExpectations } from "./update-xml-expectations.ts";

function failureLines(failure: ExpectationFailure, p: Paint): string[] {
  const lines = [`${p.bold(failure.expectation)}: ${failure.message}`];
  const { expected, actual } = failure;
  if (failure.expectation === "match" || failure.expectation.startsWith("actions[")) return lines;
  if (failure.expectation === "xml_contains") {
    lines.push(`missing: ${(expected as string[]).map((part) => JSON.stringify(part)).join(", ")}`);
    lines.push(
      "the reply was:",
      ...String(actual)
        .split("\n")
        .map((line) => `  ${line}`),
    );
    return lines;
  }
  if (expected === "valid Vobiz XML") {
    lines.push(...(actual as string[]).map((problem) => `- ${problem}`));
    return lines;
  }
  for (const line of diffLines(expected, actual)) {
    lines.push(line.startsWith("+") ? p.green(line) : line.startsWith("-") ? p.red(line) : line);
  }
  return lines;
}

function printResult(result: RuleTestResult, io: CliIo, p: Paint): void {
  const where = `${result.file}:${result.line}`;
  const title = `${result.rule} › ${result.name}`;
  if (result.passed) {
    io.stdout(`${p.green("ok")}   ${p.dim(where)} ${title}\n`);
    return;
  }
  io.stdout(`${p.red("FAIL")} ${where} ${title}\n`);
  for (const failure of result.failures) {
    for (const line of failureLines(failure, p)) io.stdout(`       ${line}\n`);
  }
}

export const testCommand: CliCommand = {
  name: "test",
  summary: "run every rule test offline, with a diff for each failure",
  usage: "test [dir] [--filter <text>] [--update] [--templates <dir>] [--json]",
  description:
    "Runs the tests of every rule under dir (default RULES_DIR or ./rules) against the whole ruleset, as a\n" +
    "reload does, without Redis or a server. Each failure shows the test's name, file and line, and a diff\n" +
    "of expected and actual. Exits 1 when a test fails or the rules do not load.",
  options: {
    ...RULES_TARGET_OPTIONS,
    filter: { type: "string" },
    update: { type: "boolean" },
    json: { type: "boolean" },
  },
  optionHelp: {
    ...RULES_TARGET_HELP,
    filter: "only tests whose name or rule id contains this text (case-insensitive)",
    update: "rewrite failing `xml` expectations with the actual reply (check the diff in git)",
    json: "print the results as JSON",
  },
  maxPositionals: 1,
  async run(args, io) {
    const target = rulesTarget(args, io);
    const p = paint(io.color);
    let result = await loadRuleset(target.load);
    const filter = stringOption(args, "filter")?.toLowerCase();
    const selected = (tests: RuleTestResult[]): RuleTestResult[] =>
      filter === undefined
        ? tests
        : tests.filter((t) => `${t.rule} ${t.name}`.toLowerCase().includes(filter));
    if (flag(args, "update")) {
      const updates = await updateXmlExpectations(target.rulesDir, selected(result.tests));
      for (const update of updates) {
        io.stderr(`updated the xml expectation of "${update.test}" (${update.file}:${update.line})\n`);
      }
      if (updates.length > 0) result = await loadRuleset(target.load);
    }
    const loadProblems = result.problems.filter((problem) => problem.code !== "RULE_TEST_FAILED");
    const tests = selected(result.tests);
    const passed = tests.filter((t) => t.passed).length;
    const failed = tests.length - passed;
    if (flag(args, "json")) {
      io.stdout(`${JSON.stringify({ passed, failed, problems: loadProblems, tests }, null, 2)}\n`);
      return failed > 0 || loadProblems.length > 0 ? 1 : 0;
    }
    if (loadProblems.length > 0) {
      for (const problem of loadProblems) io.stdout(`${formatProblem(problem)}\n`);
      io.stdout(`${p.red("the rules do not load")}; no test was run (switchboard check says the same)\n`);
      return 1;
    }
    for (const test of tests) printResult(test, io, p);
    const summary = `${passed} passed, ${failed} failed`;
    io.stdout(`${failed > 0 ? p.red(summary) : p.green(summary)}\n`);
    if (tests.length === 0 && filter !== undefined) io.stderr(`no test matches "${filter}"\n`);
    return failed > 0 ? 1 : 0;
  },
};
