/**
 * `switchboard events`: the recent events of a running instance (GET /admin/events), one line each, oldest
 * first: time, type, path, matched rules, outcome. `--follow` keeps asking for newer ones, like `tail -f`,
 * until interrupted.
 */
import { flag, stringOption, UsageError, type CliCommand, type CliIo } from "./cli-command.ts";
import {
  AdminRequestError,
  adminRequest,
  INSTANCE_HELP,
  INSTANCE_OPTIONS,
  instanceTarget,
} from "./instance-target.ts";
import { paint, type Paint } from "./paint.ts";

export interface EventLine {
  id: string;
  type?: string;
  status: string;
  receivedAt: string;
  path: string;
  matches: Array<{ id: string }>;
  answer: { outcome?: string; rule?: string; reason?: string } | null;
  actions: Array<{ job: string | null; rule?: string; state?: string; reason?: string; error?: string }>;
}

/** `2026-12-02 03:41:07  Hangup  /events  crm.completed-calls  ok` */
export function formatEvent(event: EventLine, p: Paint): string {
  const time = event.receivedAt.replace("T", " ").slice(0, 19);
  const rules = event.matches.length > 0 ? event.matches.map((match) => match.id).join(",") : "(no rule)";
  const answered =
    event.answer === null
      ? ""
      : ` reply:${event.answer.outcome ?? "?"}${event.answer.rule ? `(${event.answer.rule})` : ""}${event.answer.reason ? `(${event.answer.reason})` : ""}`;
  const jobs = event.actions.filter((action) => action.job !== null);
  const delivered = jobs.filter((action) => action.state === "delivered").length;
  const outcome =
    event.status === "ok"
      ? p.green("ok")
      : event.status === "failed"
        ? p.red("failed")
        : p.yellow(event.status);
  const failure = jobs.find((action) => ["dead_letter", "failed"].includes(action.state ?? ""));
  const why = failure ? ` (${failure.rule ?? "?"}: ${failure.reason ?? failure.error ?? failure.state})` : "";
  const actions = jobs.length > 0 ? ` ${delivered}/${jobs.length} delivered${why}` : "";
  return `${p.dim(time)}  ${(event.type ?? "?").padEnd(12)} ${event.path.padEnd(24)} ${rules}  ${outcome}${actions}${answered}  ${p.dim(event.id)}`;
}

const sleep = (ms: number, signal: AbortSignal | undefined): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
  });

async function follow(
  io: CliIo,
  fetchPage: (since?: string) => Promise<EventLine[]>,
  print: (event: EventLine) => void,
  seen: Set<string>,
  since: string | undefined,
): Promise<void> {
  let from = since;
  while (!io.signal?.aborted) {
    await sleep(1000, io.signal);
    if (io.signal?.aborted) break;
    const fresh = (await fetchPage(from)).filter((event) => !seen.has(event.id)).reverse();
    for (const event of fresh) {
      seen.add(event.id);
      print(event);
      from = event.receivedAt;
    }
  }
}

export const eventsCommand: CliCommand = {
  name: "events",
  summary: "show the recent events of a running instance (--follow for new ones)",
  usage: "events [--call <CallUUID>] [--type <type>] [--limit <n>] [--follow] [--url <url>] [--json]",
  description:
    "Lists the recent events of a running instance (with ADMIN_TOKEN), oldest first, one line each: time,\n" +
    "type, path, matched rules, outcome (ok, pending, failed; deliveries; the /answer reply). --follow\n" +
    "then prints new events as they arrive until Ctrl-C.",
  options: {
    ...INSTANCE_OPTIONS,
    call: { type: "string" },
    type: { type: "string" },
    limit: { type: "string" },
    follow: { type: "boolean", short: "f" },
    json: { type: "boolean" },
  },
  optionHelp: {
    ...INSTANCE_HELP,
    call: "only the events of this CallUUID",
    type: "only events of this type (Hangup, StartApp, …)",
    limit: "how many recent events (default 20, at most 200)",
    follow: "keep printing new events, like tail -f",
    json: "print the events as JSON, one object a line",
  },
  maxPositionals: 0,
  async run(args, io) {
    const target = instanceTarget(args, io);
    const limit = Number(stringOption(args, "limit") ?? 20);
    if (!Number.isInteger(limit) || limit < 1 || limit > 200)
      throw new UsageError("--limit must be a whole number from 1 to 200");
    const query = new URLSearchParams({ limit: String(limit) });
    const call = stringOption(args, "call");
    const type = stringOption(args, "type");
    if (call !== undefined) query.set("CallUUID", call);
    if (type !== undefined) query.set("type", type);
    const json = flag(args, "json");
    const p = paint(io.color);
    const fetchPage = async (since?: string): Promise<EventLine[]> => {
      const page = new URLSearchParams(query);
      if (since !== undefined) page.set("since", since);
      const { status, body } = await adminRequest(target, "GET", `/admin/events?${page.toString()}`);
      if (status !== 200)
        throw new AdminRequestError(`the instance answered ${status}: ${JSON.stringify(body)}`);
      return (body as { items: EventLine[] }).items;
    };
    const print = (event: EventLine): void =>
      io.stdout(json ? `${JSON.stringify(event)}\n` : `${formatEvent(event, p)}\n`);
    const recent = (await fetchPage()).reverse();
    const seen = new Set(recent.map((event) => event.id));
    for (const event of recent) print(event);
    if (recent.length === 0 && !json) io.stderr("no events yet\n");
    if (flag(args, "follow")) await follow(io, fetchPage, print, seen, recent.at(-1)?.receivedAt);
    return 0;
  },
};
