/**
 * `switchboard reload`: the fleet-wide reload of a running instance (POST /admin/reload with ADMIN_TOKEN).
 * Prints each instance's version, or the located problems that kept the old ruleset serving (exit 1).
 */
import { flag, type CliCommand } from "./cli-command.ts";
import { adminRequest, INSTANCE_HELP, INSTANCE_OPTIONS, instanceTarget } from "./instance-target.ts";
import { paint } from "./paint.ts";

interface Version {
  commit: string | null;
  hash: string;
  loadedAt: string;
}
interface InstanceReport {
  id: string;
  version: Version | null;
  errors: Array<{ file: string; line: number; pointer: string; code: string; message: string }>;
}

const describeVersion = (version: Version | null): string =>
  version === null
    ? "no ruleset"
    : `${version.hash.slice(0, 12)}${version.commit ? ` (commit ${version.commit.slice(0, 12)})` : ""} loaded ${version.loadedAt}`;

export const reloadCommand: CliCommand = {
  name: "reload",
  summary: "reload the rules on every instance of a running fleet",
  usage: "reload [--url <url>] [--json]",
  description:
    "Asks a running instance (with ADMIN_TOKEN) to reload its rules and templates and tell every other\n" +
    "instance to do the same. Prints each instance's version, or the problems found (file:line CODE\n" +
    "message); then the previous ruleset keeps serving and the exit code is 1.",
  options: { ...INSTANCE_OPTIONS, json: { type: "boolean" } },
  optionHelp: { ...INSTANCE_HELP, json: "print the reply as JSON" },
  maxPositionals: 0,
  async run(args, io) {
    const target = instanceTarget(args, io);
    const { status, body } = await adminRequest(target, "POST", "/admin/reload");
    if (flag(args, "json")) {
      io.stdout(`${JSON.stringify(body, null, 2)}\n`);
      return status === 200 ? 0 : 1;
    }
    const p = paint(io.color);
    const reply = body as { instances?: InstanceReport[]; code?: string; message?: string };
    if (!Array.isArray(reply.instances)) {
      io.stderr(`switchboard reload: ${status} ${typeof body === "string" ? body : JSON.stringify(body)}\n`);
      return 1;
    }
    let failed = status !== 200;
    for (const instance of reply.instances) {
      if (instance.errors.length === 0) {
        io.stdout(`${p.green("ok")}   ${instance.id}  ${describeVersion(instance.version)}\n`);
        continue;
      }
      failed = true;
      io.stdout(`${p.red("FAIL")} ${instance.id}  still serving ${describeVersion(instance.version)}\n`);
      for (const error of instance.errors) {
        const where = error.line > 0 ? `${error.file}:${error.line}` : error.file;
        const at = error.pointer ? `at ${error.pointer}: ` : "";
        io.stdout(`       ${where} ${p.red(error.code)} ${at}${error.message}\n`);
      }
    }
    if (failed)
      io.stdout(`${p.red("reload refused")}: fix the problems above (switchboard check shows them too)\n`);
    return failed ? 1 : 0;
  },
};
