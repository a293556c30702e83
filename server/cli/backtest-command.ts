/**
 * `switchboard backtest [dir] --since 24h`: fetches the recorded events of a running instance
 * (GET /admin/events/export, streamed) and evaluates a candidate rules folder against them offline
 * (backtest.ts), printing which decisions would change, grouped by rule, with counts and examples. Exits
 * 1 when any changed, unless `--allow-changes`.
 */
import { parseDuration } from "../config/duration.ts";
import type { CurrentRuleset } from "../events/decide-event.ts";
import type { ExportedEvent } from "../events/event-export.ts";
import { loadRuleset } from "../rules/load-ruleset.ts";
import { formatProblem } from "../rules/rule-problems.ts";
import { backtest, type BacktestReport, type EventChange } from "./backtest.ts";
import {
  flag,
  stringOption,
  UsageError,
  type CliCommand,
  type CliIo,
  type ParsedArgs,
} from "./cli-command.ts";
import {
  AdminRequestError,
  INSTANCE_HELP,
  INSTANCE_OPTIONS,
  instanceTarget,
  type InstanceTarget,
} from "./instance-target.ts";
import { paint, type Paint } from "./paint.ts";
import { RULES_TARGET_HELP, RULES_TARGET_OPTIONS, rulesTarget } from "./rules-target.ts";

const EXAMPLES = 3;
const FILTERS = ["type", "rule", "status", "CallUUID"] as const;

/** `--since 24h` (back from now) or an ISO 8601 time */
function sinceOf(text: string | undefined, now: number): string {
  if (text === undefined) return new Date(now - 86_400_000).toISOString();
  const back = parseDuration(text);
  if (back !== undefined) return new Date(now - back).toISOString();
  const at = Date.parse(text);
  if (Number.isNaN(at))
    throw new UsageError(`--since must be a duration such as 24h or an ISO 8601 time, not "${text}"`);
  return new Date(at).toISOString();
}

/** The export's lines as they arrive (the body is never held whole). */
async function* exportedEvents(
  target: InstanceTarget,
  query: URLSearchParams,
): AsyncGenerator<ExportedEvent> {
  if (!target.adminToken)
    throw new UsageError(
      "set ADMIN_TOKEN to the service's admin token (printed at start when it was not set)",
    );
  let response: Response;
  try {
    response = await fetch(`${target.url}/admin/events/export?${query.toString()}`, {
      headers: { authorization: `Bearer ${target.adminToken}` },
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    throw new AdminRequestError(
      `could not reach ${target.url} (${cause}); is Switchboard running there (npm start)? Use --url to point elsewhere`,
    );
  }
  if (response.status === 401)
    throw new AdminRequestError("401 ADMIN_UNAUTHORIZED: ADMIN_TOKEN here is not the service's admin token");
  if (response.status !== 200 || response.body === null)
    throw new AdminRequestError(`the export answered ${response.status}: ${await response.text()}`);
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of response.body) {
    buffered += decoder.decode(chunk as Uint8Array, { stream: true });
    let newline;
    while ((newline = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      if (line.trim() !== "") yield JSON.parse(line) as ExportedEvent;
    }
  }
  if (buffered.trim() !== "") yield JSON.parse(buffered) as ExportedEvent;
}

async function loadCandidate(
  dir: string | undefined,
  args: ParsedArgs,
  io: CliIo,
  p: Paint,
): Promise<CurrentRuleset | undefined> {
  const target = rulesTarget({ ...args, positionals: dir === undefined ? [] : [dir] }, io);
  const result = await loadRuleset(target.load);
  if (result.loaded === undefined || result.version === undefined) {
    for (const problem of result.problems) io.stdout(`${formatProblem(problem)}\n`);
    io.stdout(`${p.red("the rules do not load")} (${target.rulesDir}); nothing was compared\n`);
    return undefined;
  }
  return { ruleset: result.loaded, version: result.version };
}

const list = (ids: string[]): string =>
  `${ids.slice(0, EXAMPLES).join(", ")}${ids.length > EXAMPLES ? `, … (${ids.length - EXAMPLES} more)` : ""}`;

function describeChange(change: EventChange, p: Paint): string[] {
  const head = `${change.id}  ${change.type ?? "?"}  ${change.path}${change.call ? `  CallUUID=${change.call}` : ""}  ${p.dim(change.receivedAt)}`;
  const lines = [head];
  for (const rule of change.added) lines.push(`  ${p.green("+")} ${rule} matches`);
  for (const rule of change.removed) lines.push(`  ${p.red("-")} ${rule} no longer matches`);
  for (const rule of change.changed) {
    const of = (actions: string[]): string[] => actions.filter((a) => a.startsWith(`${rule}#`));
    const before = of(change.before.actions);
    const after = of(change.after.actions);
    if (before.join() !== after.join())
      lines.push(`  ~ ${rule} actions: ${before.join(", ")} -> ${after.join(", ")}`);
    for (const key of Object.keys({ ...change.before.rendered, ...change.after.rendered })) {
      if (!key.startsWith(`${rule}#`)) continue;
      const was = JSON.stringify(change.before.rendered?.[key] ?? null);
      const now = JSON.stringify(change.after.rendered?.[key] ?? null);
      if (was !== now)
        lines.push(`  ~ ${key}: ${p.red(was)}`, `    ${" ".repeat(key.length)}-> ${p.green(now)}`);
    }
  }
  if (change.xml)
    lines.push(
      `  ~ reply XML: ${p.red(JSON.stringify(change.before.xml))}`,
      `             -> ${p.green(JSON.stringify(change.after.xml))}`,
    );
  return lines;
}

function printReport(report: BacktestReport, io: CliIo, p: Paint, source: string): void {
  const skipped = [
    report.skipped.replays > 0 ? `${report.skipped.replays} replays` : "",
    report.skipped.undecided > 0 ? `${report.skipped.undecided} not decided yet` : "",
  ].filter((text) => text !== "");
  io.stdout(
    `${report.events} events from ${source} compared with ${report.baseline === "base" ? "the base rules" : "their recorded decisions"}${skipped.length > 0 ? ` (skipped: ${skipped.join(", ")})` : ""}\n`,
  );
  if (report.baseline === "recorded")
    io.stdout(
      p.dim(
        "recorded decisions keep rules and actions; give --base <dir> to compare rendered forwards and XML too\n",
      ),
    );
  for (const group of report.byRule) {
    const parts = [
      group.added.length > 0 ? `now matches ${group.added.length} (${list(group.added)})` : "",
      group.removed.length > 0 ? `no longer matches ${group.removed.length} (${list(group.removed)})` : "",
      group.changed.length > 0
        ? `${group.rule === "(reply)" ? "changed for" : "sends differently for"} ${group.changed.length} (${list(group.changed)})`
        : "",
    ].filter((part) => part !== "");
    io.stdout(`${p.bold(group.rule)}: ${parts.join("; ")}\n`);
  }
  const shown = new Set(
    report.byRule.flatMap((g) => [...g.added, ...g.removed, ...g.changed].slice(0, EXAMPLES)),
  );
  for (const change of report.changes) {
    if (!shown.has(change.id)) continue;
    for (const line of describeChange(change, p)) io.stdout(`  ${line}\n`);
  }
  const summary = `${report.changes.length} of ${report.events} decisions would change`;
  io.stdout(`${report.changes.length > 0 ? p.red(summary) : p.green(summary)}\n`);
}

export const backtestCommand: CliCommand = {
  name: "backtest",
  summary: "evaluate a rules folder against recorded events and print the decisions that would change",
  usage:
    "backtest [dir] [--since 24h] [--until <time>] [--base <dir>] [--url <url>] [--allow-changes] [--json]",
  description:
    "Fetches the events a running instance recorded (GET /admin/events/export, with ADMIN_TOKEN) and\n" +
    "evaluates the rules under dir (default RULES_DIR or ./rules) against each, offline. Prints which\n" +
    "decisions would change (rules matched, actions; with --base also forwards rendered and XML replies),\n" +
    "grouped by rule with counts and examples. Exits 1 when any would change, unless --allow-changes.",
  options: {
    ...INSTANCE_OPTIONS,
    ...RULES_TARGET_OPTIONS,
    since: { type: "string" },
    until: { type: "string" },
    base: { type: "string" },
    type: { type: "string" },
    rule: { type: "string" },
    status: { type: "string" },
    CallUUID: { type: "string" },
    "allow-changes": { type: "boolean" },
    json: { type: "boolean" },
  },
  optionHelp: {
    ...INSTANCE_HELP,
    ...RULES_TARGET_HELP,
    since: "events received since this long ago (24h, 30m, 7d) or an ISO 8601 time (default 24h)",
    until: "events received up to this ISO 8601 time",
    base: "compare with this rules folder's outcome instead of the recorded decisions (also compares forwards and XML)",
    type: "only events of this type",
    rule: "only events that matched this rule",
    status: "only events whose outcome is ok, failed or pending",
    CallUUID: "only this call's events",
    "allow-changes": "exit 0 even when decisions would change",
    json: "print the report as JSON",
  },
  maxPositionals: 1,
  async run(args, io) {
    const p = paint(io.color);
    const instance = instanceTarget(args, io);
    const query = new URLSearchParams({ since: sinceOf(stringOption(args, "since"), Date.now()) });
    const until = stringOption(args, "until");
    if (until !== undefined) {
      if (Number.isNaN(Date.parse(until)))
        throw new UsageError(`--until must be an ISO 8601 time, not "${until}"`);
      query.set("until", new Date(until).toISOString());
    }
    for (const name of FILTERS) {
      const value = stringOption(args, name);
      if (value !== undefined) query.set(name, value);
    }
    const candidate = await loadCandidate(args.positionals[0], args, io, p);
    if (candidate === undefined) return 1;
    const baseDir = stringOption(args, "base");
    const base = baseDir === undefined ? undefined : await loadCandidate(baseDir, args, io, p);
    if (baseDir !== undefined && base === undefined) return 1;
    const options = rulesTarget(args, io).load.context;
    const report = await backtest(exportedEvents(instance, query), { candidate, base, options });
    if (flag(args, "json")) io.stdout(`${JSON.stringify(report, null, 2)}\n`);
    else printReport(report, io, p, `${instance.url} since ${query.get("since") ?? ""}`);
    return report.changes.length > 0 && !flag(args, "allow-changes") ? 1 : 0;
  },
};
