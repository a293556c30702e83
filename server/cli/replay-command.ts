/**
 * `switchboard replay <event id>`: asks a running instance to run a recorded event again under its current
 * ruleset (POST /admin/events/:id/replay with ADMIN_TOKEN) and prints the new event's id. `--vobiz` runs
 * the event's vobiz actions again too (real side effects: calls, hangups).
 */
import { flag, UsageError, type CliCommand } from "./cli-command.ts";
import { adminRequest, INSTANCE_HELP, INSTANCE_OPTIONS, instanceTarget } from "./instance-target.ts";

export const replayCommand: CliCommand = {
  name: "replay",
  summary: "run a recorded event again under the current rules of a running instance",
  usage: "replay <event id> [--vobiz] [--url <url>] [--json]",
  description:
    "Asks a running instance (with ADMIN_TOKEN) to replay an event: a new event, linked to the original,\n" +
    "decided under the rules loaded now; its forwards carry new idempotency keys. vobiz actions are skipped\n" +
    "unless --vobiz is given. Prints the new event's id (switchboard events shows how it went).",
  options: { ...INSTANCE_OPTIONS, vobiz: { type: "boolean" }, json: { type: "boolean" } },
  optionHelp: {
    ...INSTANCE_HELP,
    vobiz: "run the event's vobiz actions again too (they are real side effects)",
    json: "print the reply as JSON",
  },
  maxPositionals: 1,
  async run(args, io) {
    const [id] = args.positionals;
    if (id === undefined || id === "") throw new UsageError("give the id of the event to replay (evt_…)");
    const target = instanceTarget(args, io);
    const { status, body } = await adminRequest(
      target,
      "POST",
      `/admin/events/${encodeURIComponent(id)}/replay`,
      flag(args, "vobiz") ? { vobiz: true } : undefined,
    );
    if (flag(args, "json")) {
      io.stdout(`${JSON.stringify(body, null, 2)}\n`);
      return status === 202 ? 0 : 1;
    }
    const reply = body as { id?: string; attempt?: number; code?: string; message?: string };
    if (status !== 202 || reply.id === undefined) {
      io.stderr(
        `switchboard replay: ${status} ${reply.code ?? ""}: ${reply.message ?? JSON.stringify(body)}\n`,
      );
      return 1;
    }
    io.stdout(`${reply.id}\n`);
    io.stderr(
      `replay of ${id} (run ${reply.attempt ?? "?"}) stored; its trace: GET /admin/events/${reply.id}\n`,
    );
    return 0;
  },
};
