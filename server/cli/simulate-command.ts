/**
 * `switchboard simulate <answer path>`: plays a whole call against a running instance as Vobiz would
 * (simulate-call.ts) and prints each step: the request, the status and which rule answered, the XML,
 * what the caller hears and where the call goes next. `--json` prints the transcript as data.
 */
import { flag, stringOption, UsageError, type CliCommand, type CliIo } from "./cli-command.ts";
import { INSTANCE_HELP, INSTANCE_OPTIONS, instanceTarget } from "./instance-target.ts";
import { paint, type Paint } from "./paint.ts";
import { simulateCall, type Step } from "./simulate-call.ts";
import { UnreachableError } from "./vobiz-request.ts";

const DIAL_STATUSES = ["completed", "busy", "failed", "cancel", "timeout", "no-answer"];

function printStep(step: Step, index: number, io: CliIo, p: Paint): void {
  const { request } = step;
  const input = request.fields.Digits ? ` Digits=${request.fields.Digits}` : "";
  const type = request.fields.Event ?? (request.fields.InputType ? "Gather" : "");
  io.stdout(
    `${p.bold(`${index}. ${request.method} ${request.path}`)}  ${p.dim(`${type}${input} (${request.why})`)}\n`,
  );
  const status = step.status === 200 ? p.green("200") : p.red(String(step.status));
  const reply = step.reply === "" ? "" : step.reply.startsWith("fallback") ? p.red(step.reply) : step.reply;
  io.stdout(`   ← ${status} ${reply}\n`);
  for (const line of step.xml.trim().split("\n")) io.stdout(`   ${p.dim("|")} ${line}\n`);
  for (const words of step.hears) io.stdout(`   ${p.cyan("caller hears")} ${words}\n`);
  if (step.next !== undefined) io.stdout(`   ${p.dim("next:")} ${step.next}\n`);
}

const list = (value: string | undefined): string[] =>
  value === undefined ? [] : value.split(",").map((part) => part.trim());

export const simulateCommand: CliCommand = {
  name: "simulate",
  summary: "play a whole signed call against a running instance, like Vobiz would",
  usage:
    "simulate <answer path> [--digits 1,2] [--speech text] [--dial-status completed] [--duration 95] [--from n] [--to n] [--answer-only] [--no-hangup] [--url <url>] [--json]",
  description:
    "Calls the answer URL (/answer/support, or just support) of a running instance as Vobiz would, then\n" +
    "follows the XML: <Gather> actions get the next of --digits (or --speech), <Redirect>s are followed,\n" +
    "<Dial> actions get --dial-status, <Record> actions and callbacks are sent, and the call ends with a\n" +
    "Hangup to the hangup URL. Every request is signed with VOBIZ_AUTH_TOKEN for PUBLIC_URL and carries one\n" +
    "CallUUID. Exits 1 when the call stops on a refused request, a fallback reply, XML it cannot follow or\n" +
    "a loop.",
  options: {
    ...INSTANCE_OPTIONS,
    digits: { type: "string" },
    speech: { type: "string" },
    "dial-status": { type: "string" },
    duration: { type: "string" },
    from: { type: "string" },
    to: { type: "string" },
    "hangup-path": { type: "string" },
    "answer-only": { type: "boolean" },
    "no-hangup": { type: "boolean" },
    json: { type: "boolean" },
  },
  optionHelp: {
    ...INSTANCE_HELP,
    digits: "keys pressed at each <Gather>, in order, e.g. 1 or 9,9 (none left: no input)",
    speech: "what the caller says at each speech <Gather>, comma-separated",
    "dial-status": `how a <Dial> ends: ${DIAL_STATUSES.join(", ")} (default completed)`,
    duration: "call length in seconds reported by the hangup (default 95)",
    from: "the caller's number (default 919876543210)",
    to: "the number called (default 918040001234)",
    "hangup-path": "where the hangup goes (the application's hangup_url; default /events)",
    "answer-only": "send only the answer request",
    "no-hangup": "do not send the hangup at the end",
    json: "print the transcript as JSON",
  },
  maxPositionals: 1,
  async run(args, io) {
    const [where] = args.positionals;
    if (where === undefined) throw new UsageError("give the answer path, e.g. /answer/support or support");
    const answerPath = where.startsWith("/") ? where : `/answer/${where}`;
    const dialStatus = stringOption(args, "dial-status") ?? "completed";
    if (!DIAL_STATUSES.includes(dialStatus))
      throw new UsageError(`--dial-status must be one of ${DIAL_STATUSES.join(", ")}`);
    const duration = Number(stringOption(args, "duration") ?? 95);
    if (!Number.isInteger(duration) || duration < 0)
      throw new UsageError("--duration must be a whole number of seconds");
    const hangupPath = stringOption(args, "hangup-path") ?? "/events";
    const target = instanceTarget(args, io);
    const json = flag(args, "json");
    const p = paint(io.color);
    if (!target.authToken) io.stderr("VOBIZ_AUTH_TOKEN is not set: requests go unsigned\n");
    let count = 0;
    let transcript;
    try {
      transcript = await simulateCall(
        target,
        {
          answerPath,
          from: stringOption(args, "from"),
          to: stringOption(args, "to"),
          digits: list(stringOption(args, "digits")),
          speech: list(stringOption(args, "speech")),
          dialStatus,
          duration,
          hangupPath: hangupPath.startsWith("/") ? hangupPath : `/${hangupPath}`,
          answerOnly: flag(args, "answer-only"),
          hangup: !flag(args, "no-hangup"),
        },
        json ? undefined : (step) => printStep(step, (count += 1), io, p),
      );
    } catch (error) {
      if (error instanceof UnreachableError) {
        io.stderr(`switchboard simulate: ${error.message}\n`);
        return 1;
      }
      throw error;
    }
    if (json) {
      io.stdout(`${JSON.stringify(transcript, null, 2)}\n`);
    } else {
      const summary = `call ${transcript.call.CallUUID}: ${transcript.ended.how} (${transcript.steps.length} requests)`;
      io.stdout(`${transcript.ended.ok ? p.green("ended") : p.red("stopped")}: ${summary}\n`);
    }
    return transcript.ended.ok ? 0 : 1;
  },
};
