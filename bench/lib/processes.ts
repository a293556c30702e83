/** Starting and stopping the processes a benchmark loads (by PID), and the Redis they share. */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { pino } from "pino";
import { startEmbeddedRedis, type EmbeddedRedis } from "../../server/redis/embedded-redis.ts";
import { findFreePort } from "../../server/redis/find-free-port.ts";

export const ROOT = path.resolve(import.meta.dirname, "../..");
export const BENCH_TOKEN = "bench-auth-token";

export interface BenchServer {
  name: string;
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

export async function startBenchRedis(): Promise<EmbeddedRedis & { flush(): Promise<void> }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "switchboard-bench-redis-"));
  const redis = await startEmbeddedRedis({ dir, log: pino({ level: "warn" }) });
  return {
    ...redis,
    async flush() {
      const client = new Redis(redis.url);
      await client.flushall();
      client.disconnect();
    },
    async stop() {
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Spawns `node --import tsx <script> ...args` and waits until `ready` answers (a URL path or "stdout"). */
export async function startServer(
  name: string,
  script: string,
  args: (port: number) => string[],
  env: (port: number) => Record<string, string>,
  ready: string,
): Promise<BenchServer> {
  const port = await findFreePort();
  const child = spawn(process.execPath, ["--import", "tsx", script, ...args(port)], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", ...env(port) },
    stdio: ["ignore", ready === "stdout" ? "pipe" : "ignore", "inherit"],
  });
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  if (ready === "stdout") {
    await new Promise<void>((resolve, reject) => {
      child.stdout?.on("data", (chunk: Buffer) => {
        if (chunk.toString().includes("ready")) resolve();
      });
      child.once("exit", (code) => reject(new Error(`${name} exited with ${code}`)));
    });
    child.stdout?.resume();
  } else {
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        if ((await fetch(url + ready)).status === 200) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        // not left running behind the error: nothing else holds its PID
        if (child.exitCode === null) child.kill("SIGKILL");
        await exited;
        throw new Error(`${name} did not become ready`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return {
    name,
    url,
    child,
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

export function startSwitchboard(
  name: string,
  redisUrl: string,
  env: Record<string, string> = {},
): Promise<BenchServer> {
  return startServer(
    name,
    "server/main.ts",
    () => [],
    (port) => ({
      PORT: String(port),
      HOST: "127.0.0.1",
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      REDIS_URL: redisUrl,
      VOBIZ_AUTH_TOKEN: BENCH_TOKEN,
      ADMIN_TOKEN: "bench-admin-token-0123456789",
      LOG_LEVEL: "info",
      ...env,
    }),
    "/ready",
  );
}
