/**
 * What every `switchboard` command is: a name, a one-line summary, its usage and options (node:util
 * parseArgs), and a `run` that writes through `CliIo` and returns the exit code (0 ok, 1 a failed check or
 * request, 2 a usage error). Commands never read `process` themselves, so tests run them in process.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";

export interface CliIo {
  /** the environment the command runs with (scripts/switchboard.mjs passes process.env) */
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** colour only on a terminal (and never with NO_COLOR) */
  color: boolean;
  /** ends `events --follow` (Ctrl-C in the terminal; tests abort it) */
  signal?: AbortSignal;
}

export type CliOptions = NonNullable<ParseArgsConfig["options"]>;

export interface ParsedArgs {
  positionals: string[];
  values: Record<string, string | boolean | string[] | undefined>;
}

export interface CliCommand {
  name: string;
  summary: string;
  /** `check [dir]` */
  usage: string;
  /** what the command does, after the usage line */
  description: string;
  options: CliOptions;
  /** option name → one-line help */
  optionHelp: Record<string, string>;
  /** most positionals the command takes (Infinity for k=v lists) */
  maxPositionals: number;
  run(args: ParsedArgs, io: CliIo): Promise<number>;
}

/** Thrown for a wrong invocation: printed with the command's usage, exit code 2. */
export class UsageError extends Error {}

export function parseCommandArgs(command: CliCommand, argv: readonly string[]): ParsedArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { ...command.options, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/\. To specify a positional.*$/s, "."));
  }
  if (parsed.positionals.length > command.maxPositionals) {
    throw new UsageError(`too many arguments: ${parsed.positionals.slice(command.maxPositionals).join(" ")}`);
  }
  return { positionals: parsed.positionals, values: parsed.values };
}

export function commandHelp(command: CliCommand): string {
  const lines = [`Usage: switchboard ${command.usage}`, "", command.description, ""];
  const rows = Object.entries(command.options).map(([name, option]) => {
    const flag = `${option.short ? `-${option.short}, ` : "    "}--${name}${option.type === "string" ? " <value>" : ""}`;
    return [flag, command.optionHelp[name] ?? ""] as const;
  });
  rows.push(["-h, --help", "show this help"]);
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 2;
  lines.push("Options:", ...rows.map(([flag, help]) => `  ${flag.padEnd(width)}${help}`), "");
  return lines.join("\n");
}

/** A string option's value (undefined when not given). */
export const stringOption = (args: ParsedArgs, name: string): string | undefined => {
  const value = args.values[name];
  return typeof value === "string" ? value : undefined;
};

export const flag = (args: ParsedArgs, name: string): boolean => args.values[name] === true;
