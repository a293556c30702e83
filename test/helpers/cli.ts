import { spawn } from "node:child_process";
import path from "node:path";
import { runCli } from "../../server/cli/run-cli.ts";

export const BIN = path.resolve(import.meta.dirname, "../../scripts/switchboard.mjs");

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `switchboard <argv>` in this process with exactly `env` (no colour), as the bin would. */
export async function runCommand(
  argv: string[],
  options: {
    env?: Record<string, string>;
    cwd?: string;
    signal?: AbortSignal;
    onStdout?: (all: string) => void;
  } = {},
): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const code = await runCli(argv, {
    env: options.env ?? {},
    cwd: options.cwd ?? path.resolve(import.meta.dirname, "../.."),
    stdout: (text) => {
      stdout += text;
      options.onStdout?.(stdout);
    },
    stderr: (text) => (stderr += text),
    color: false,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  return { code, stdout, stderr };
}

/** Runs the real bin (`node scripts/switchboard.mjs`) as a child process with exactly `env` (plus PATH, HOME). */
export function runBin(
  argv: string[],
  options: { env?: Record<string, string>; cwd: string },
): Promise<CliRun> {
  const child = spawn(process.execPath, [BIN, ...argv], {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/root", ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}
