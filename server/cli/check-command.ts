/**
 * `switchboard check [dir]`: loads the rules and templates exactly as a reload does (loadRuleset: schema,
 * ids, operations, profiles, templates, XML replies, every rule test), with no Redis and no server, and
 * prints each problem as `file:line:column CODE message`, the form editors and CI annotate.
 */
import { loadRuleset } from "../rules/load-ruleset.ts";
import { formatProblem } from "../rules/rule-problems.ts";
import { flag, type CliCommand } from "./cli-command.ts";
import { paint } from "./paint.ts";
import { RULES_TARGET_HELP, RULES_TARGET_OPTIONS, rulesTarget } from "./rules-target.ts";

export const checkCommand: CliCommand = {
  name: "check",
  summary: "validate rule files and templates like a reload does (no Redis, no server)",
  usage: "check [dir] [--strict] [--templates <dir>] [--json]",
  description:
    "Validates every rule file under dir (default RULES_DIR or ./rules) and every template, and runs the\n" +
    "rule tests, exactly as a reload would. Prints one `file:line:column CODE message` line per problem\n" +
    "and exits 1 when there is any. Warnings (a secrets.NAME whose SECRET_NAME is not set here) do not\n" +
    "fail the check unless --strict is given.",
  options: { ...RULES_TARGET_OPTIONS, strict: { type: "boolean" }, json: { type: "boolean" } },
  optionHelp: {
    ...RULES_TARGET_HELP,
    strict: "treat warnings as problems (run it where the SECRET_* variables are set)",
    json: "print the result as JSON",
  },
  maxPositionals: 1,
  async run(args, io) {
    const target = rulesTarget(args, io);
    const result = await loadRuleset(target.load);
    const strict = flag(args, "strict");
    const problems = strict
      ? [...result.problems, ...result.warnings].sort(
          (x, y) => x.file.localeCompare(y.file) || x.line - y.line || x.column - y.column,
        )
      : result.problems;
    const warnings = strict ? [] : result.warnings;
    const ok = problems.length === 0;
    if (flag(args, "json")) {
      io.stdout(
        `${JSON.stringify(
          {
            ok,
            rulesDir: target.rulesDir,
            templatesDir: target.templatesDir,
            version: result.version ?? null,
            rules: result.loaded?.ruleset.rules.length ?? null,
            tests: result.tests.length,
            problems,
            warnings,
          },
          null,
          2,
        )}\n`,
      );
      return ok ? 0 : 1;
    }
    const p = paint(io.color);
    for (const problem of problems) {
      io.stdout(`${formatProblem(problem).replace(problem.code, p.red(problem.code))}\n`);
    }
    for (const warning of warnings) {
      io.stdout(`${formatProblem(warning).replace(warning.code, `${p.yellow(warning.code)} (warning)`)}\n`);
    }
    if (ok) {
      const rules = result.loaded?.ruleset.rules.length ?? 0;
      const warned =
        warnings.length > 0 ? `, ${warnings.length} warning${warnings.length === 1 ? "" : "s"}` : "";
      io.stdout(`${p.green("ok")}: ${rules} rules, ${result.tests.length} tests passed${warned}\n`);
      return 0;
    }
    const count = problems.length;
    const outcome =
      result.problems.length > 0 ? "nothing would be loaded" : "a server would load this, with warnings";
    io.stdout(`${p.red(`${count} problem${count === 1 ? "" : "s"}`)}; ${outcome}\n`);
    return 1;
  },
};
