/**
 * `switchboard send <path> k=v …`: one request to a running instance, signed as Vobiz signs it, and its
 * status and body. `--event Hangup` starts from a realistic Vobiz payload of that type; `k=v` pairs
 * override or add fields.
 */
import { flag, stringOption, UsageError, type CliCommand } from "./cli-command.ts";
import { INSTANCE_HELP, INSTANCE_OPTIONS, instanceTarget } from "./instance-target.ts";
import { paint } from "./paint.ts";
import { newCall, SAMPLE_EVENT_TYPES, samplePayload, type Fields } from "./vobiz-payloads.ts";
import { explainRefusal, sendVobizRequest, UnreachableError } from "./vobiz-request.ts";

function parseFields(pairs: readonly string[]): Fields {
  const fields: Fields = {};
  for (const pair of pairs) {
    const at = pair.indexOf("=");
    if (at <= 0) throw new UsageError(`"${pair}" is not a field: write name=value, e.g. Duration=95`);
    fields[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return fields;
}

export const sendCommand: CliCommand = {
  name: "send",
  summary: "send one signed request (any event) to a running instance",
  usage: "send <path> [name=value ...] [--event <type>] [--get] [--url <url>]",
  description:
    "Sends one request to path (e.g. /events or /answer/support) of a running instance, signed as Vobiz\n" +
    "signs it: with VOBIZ_AUTH_TOKEN, over PUBLIC_URL + path. Prints the status and the body; exits 1\n" +
    `unless the answer is 2xx. --event fills a realistic payload of one of: ${SAMPLE_EVENT_TYPES.join(", ")}\n` +
    "(any other name is sent as Event=<name> with the usual call fields); name=value pairs override it.",
  options: { ...INSTANCE_OPTIONS, event: { type: "string" }, get: { type: "boolean" } },
  optionHelp: {
    ...INSTANCE_HELP,
    event: "start from a realistic Vobiz payload of this event type (Hangup, StartApp, RecordStop, …)",
    get: "send the fields in the query string with GET (a Vobiz URL set to GET)",
  },
  maxPositionals: Infinity,
  async run(args, io) {
    const [rawPath, ...pairs] = args.positionals;
    if (rawPath === undefined) throw new UsageError("give the path to send to, e.g. /events");
    const path = rawPath.startsWith("/") ? rawPath : `/${rawPath}`;
    const target = instanceTarget(args, io);
    const event = stringOption(args, "event");
    const fields = { ...(event === undefined ? {} : samplePayload(event, newCall())), ...parseFields(pairs) };
    const method = flag(args, "get") ? "GET" : "POST";
    const p = paint(io.color);
    if (!target.authToken) io.stderr("VOBIZ_AUTH_TOKEN is not set: the request goes unsigned\n");
    let response;
    try {
      response = await sendVobizRequest(target, path, fields, method);
    } catch (error) {
      if (error instanceof UnreachableError) {
        io.stderr(`switchboard send: ${error.message}\n`);
        return 1;
      }
      throw error;
    }
    const ok = response.status >= 200 && response.status < 300;
    const status = `${response.status}`;
    io.stdout(`${method} ${target.url}${path} → ${ok ? p.green(status) : p.red(status)}\n`);
    io.stdout(`${response.body}${response.body.endsWith("\n") ? "" : "\n"}`);
    const why = ok ? undefined : explainRefusal(response.status, response.body, target);
    if (why !== undefined) io.stderr(`${p.red("refused")}: ${why}\n`);
    return ok ? 0 : 1;
  },
};
