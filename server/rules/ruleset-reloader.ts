/**
 * Loads the ruleset from disk into the registry: at start-up (problems stop the start) and on every
 * reload (problems leave the current ruleset serving). Reloads on one instance never overlap: a reload
 * asked for while one runs waits for it and then runs once more, so the newest files always win.
 */
import { AppError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import type { Metrics } from "../metrics.ts";
import { loadRuleset, type LoadedRuleset, type LoadOptions } from "./load-ruleset.ts";
import type { RuleRegistry } from "./rule-registry.ts";
import { formatProblem, type RuleProblem } from "./rule-problems.ts";
import type { RulesetVersion } from "./ruleset-version.ts";

export interface ReloadOutcome {
  /** the version now serving (the new one, or the old one when the reload was refused) */
  version: RulesetVersion | undefined;
  /** empty when the new ruleset was swapped in */
  errors: RuleProblem[];
  durationMs: number;
}

export interface RulesetReloader {
  reload(): Promise<ReloadOutcome>;
}

export function rulesetInvalid(problems: readonly RuleProblem[]): AppError {
  return new AppError(
    "RULESET_INVALID",
    `${problems.length} problem${problems.length === 1 ? "" : "s"} in the rule files or templates:\n${problems.map(formatProblem).join("\n")}`,
    {
      details: {
        errors: problems.map(({ file, line, pointer, code, message }) => ({
          file,
          line,
          pointer,
          code,
          message,
        })),
      },
    },
  );
}

export function createRulesetReloader(
  registry: RuleRegistry<LoadedRuleset>,
  options: LoadOptions,
  log: Logger,
  metrics?: Metrics,
): RulesetReloader {
  let running: Promise<ReloadOutcome> | undefined;
  let again: Promise<ReloadOutcome> | undefined;
  const once = async (): Promise<ReloadOutcome> => {
    const started = performance.now();
    const result = await loadRuleset(options);
    const durationMs = Math.round(performance.now() - started);
    if (result.warnings.length > 0) {
      log.warn({ warnings: result.warnings.map(formatProblem) }, "the ruleset uses secrets that are not set");
    }
    if (result.loaded && result.version) {
      registry.swap(result.loaded, result.version);
      metrics?.reloads.inc({ outcome: "loaded" });
      log.info(
        {
          version: result.version,
          rules: result.loaded.ruleset.rules.length,
          tests: result.tests.length,
          durationMs,
        },
        "ruleset loaded",
      );
      return { version: result.version, errors: [], durationMs };
    }
    metrics?.reloads.inc({ outcome: "refused" });
    log.warn(
      { problems: result.problems.map(formatProblem), durationMs },
      "ruleset refused; the previous one keeps serving",
    );
    return { version: registry.current?.version, errors: result.problems, durationMs };
  };
  const reload = (): Promise<ReloadOutcome> => {
    if (running === undefined) {
      running = once().finally(() => (running = undefined));
      return running;
    }
    again ??= running.then(
      () => ((again = undefined), reload()),
      () => ((again = undefined), reload()),
    );
    return again;
  };
  return { reload };
}
