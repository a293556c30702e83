/**
 * `switchboard <command>`: finds the command, parses its options, prints help, and turns what went wrong
 * into an exit code: 0 ok, 1 a failed check or request, 2 a usage error. scripts/switchboard.mjs (the
 * package `bin`) calls it with the real process; tests call it in process.
 */
import { isAppError } from "../errors.ts";
import { VERSION } from "../version.ts";
import { checkCommand } from "./check-command.ts";
import { commandHelp, parseCommandArgs, UsageError, type CliCommand, type CliIo } from "./cli-command.ts";
import { eventsCommand } from "./events-command.ts";
import { AdminRequestError } from "./instance-target.ts";
import { reloadCommand } from "./reload-command.ts";
import { schemaCommand } from "./schema-command.ts";
import { sendCommand } from "./send-command.ts";
import { simulateCommand } from "./simulate-command.ts";
import { testCommand } from "./test-command.ts";
import { replayCommand } from "./replay-command.ts";
import { backtestCommand } from "./backtest-command.ts";

export const COMMANDS: readonly CliCommand[] = [
  checkCommand,
  testCommand,
  sendCommand,
  simulateCommand,
  eventsCommand,
  reloadCommand,
  schemaCommand,
  replayCommand,
  backtestCommand,
];

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length)) + 2;
  return [
    "Usage: switchboard <command> [options]",
    "",
    "Commands:",
    ...COMMANDS.map((command) => `  ${command.name.padEnd(width)}${command.summary}`),
    "",
    "Run `switchboard <command> --help` for a command's options.",
    "Exit codes: 0 ok, 1 a check, test or request failed, 2 a usage error.",
    "",
  ].join("\n");
}

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    io.stdout(mainHelp());
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "-v") {
    io.stdout(`${VERSION}\n`);
    return 0;
  }
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (command === undefined) {
    io.stderr(`switchboard: unknown command "${name}"\n\n${mainHelp()}`);
    return 2;
  }
  try {
    const args = parseCommandArgs(command, rest);
    if (args.values.help === true) {
      io.stdout(commandHelp(command));
      return 0;
    }
    return await command.run(args, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`switchboard ${command.name}: ${error.message}\n\n${commandHelp(command)}`);
      return 2;
    }
    if (error instanceof AdminRequestError) {
      io.stderr(`switchboard ${command.name}: ${error.message}\n`);
      return 1;
    }
    if (isAppError(error)) {
      io.stderr(`switchboard ${command.name}: ${error.code}: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}
