import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { AppError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { findFreePort } from "./find-free-port.ts";

export interface EmbeddedRedis {
  url: string;
  pid: number;
  /** SIGTERM, wait for the exit (redis-server flushes its AOF), SIGKILL after the timeout */
  stop(): Promise<void>;
}

export interface EmbeddedRedisOptions {
  dir: string;
  log: Logger;
  /** extra redis-server arguments, e.g. ["--appendonly", "no"] for throwaway test servers */
  args?: string[];
  startTimeoutMs?: number;
  /** a fixed port (tests that restart a server on the same address); a free one otherwise */
  port?: number;
}

/** Whether a redis-server binary is on PATH. */
export function hasRedisServer(): boolean {
  return spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status === 0;
}

/**
 * Starts a redis-server child bound to 127.0.0.1 on a free port, data in `dir`, append-only file on,
 * eviction off. A server left behind by a process that was killed with -9 is stopped first (by the PID in
 * its pidfile, and only when that PID is still a redis-server).
 */
export async function startEmbeddedRedis(options: EmbeddedRedisOptions): Promise<EmbeddedRedis> {
  if (!hasRedisServer()) {
    throw new AppError(
      "REDIS_MISSING",
      "redis-server is not installed. Install it (Debian/Ubuntu: `sudo apt-get install -y redis-server`; " +
        "`npm start` does this itself when run as root) or set REDIS_URL to an existing Redis.",
    );
  }
  mkdirSync(options.dir, { recursive: true });
  const pidFile = path.join(options.dir, "redis.pid");
  stopLeftover(pidFile, options.log);
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const port = options.port ?? (await findFreePort());
    try {
      return await spawnRedis(port, pidFile, options);
    } catch (error) {
      lastError = error; // most likely the port was taken between finding and binding it
    }
  }
  throw lastError;
}

function spawnRedis(port: number, pidFile: string, options: EmbeddedRedisOptions): Promise<EmbeddedRedis> {
  const args = [
    "--port", String(port),
    "--bind", "127.0.0.1",
    "--dir", options.dir,
    "--pidfile", pidFile,
    "--appendonly", "yes",
    "--appendfsync", "everysec",
    "--save", "",
    "--maxmemory-policy", "noeviction",
    "--daemonize", "no",
    "--protected-mode", "yes",
    ...(options.args ?? []),
  ]; // prettier-ignore
  const child = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
  const log = options.log.child({ component: "embedded-redis", port });
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`redis-server did not become ready on port ${port}: ${output.slice(-500)}`));
    }, options.startTimeoutMs ?? 10_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes("Ready to accept connections")) {
        clearTimeout(timer);
        child.stdout?.off("data", onData);
        child.stdout?.resume();
        child.stderr?.resume();
        log.info({ pid: child.pid, dir: options.dir }, "embedded redis-server started");
        resolve(handle(child, port, pidFile, log));
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with code ${code}: ${output.slice(-500)}`));
    });
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

function handle(child: ChildProcess, port: number, pidFile: string, log: Logger): EmbeddedRedis {
  let stopping: Promise<void> | undefined;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid ?? -1,
    stop(timeoutMs = 10_000): Promise<void> {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill("SIGTERM");
          const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
          await exited;
          clearTimeout(timer);
        }
        rmSync(pidFile, { force: true });
        log.info("embedded redis-server stopped");
      })();
      return stopping;
    },
  };
}

function stopLeftover(pidFile: string, log: Logger): void {
  let pid: number;
  try {
    pid = Number.parseInt(readFileSync(pidFile, "utf8").trim(), 10);
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || pid <= 1) return;
  let comm = "";
  try {
    comm = readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return; // not running any more
  }
  if (!comm.startsWith("redis-server")) return;
  log.warn({ pid }, "stopping a redis-server left behind by an earlier run");
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    // already gone
  }
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    spawnSync("sleep", ["0.05"]);
  }
}
