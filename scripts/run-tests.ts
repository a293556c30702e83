/**
 * Runs every test file with Node's test runner against one real redis-server started here on a free port,
 * then fails the run if any test left a Redis connection open or a key behind (each integration file
 * works under its own key prefix and must clean up). Usage: tsx scripts/run-tests.ts [file or dir ...]
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { pino } from "pino";
import { startEmbeddedRedis } from "../server/redis/embedded-redis.ts";

function findTests(target: string): string[] {
  if (statSync(target).isFile()) return [target];
  return readdirSync(target, { withFileTypes: true })
    .flatMap((entry) => {
      const full = path.join(target, entry.name);
      if (entry.isDirectory()) return findTests(full);
      return entry.name.endsWith(".test.ts") ? [full] : [];
    })
    .sort();
}

const targets = process.argv.slice(2);
const files = (targets.length > 0 ? targets : ["test"]).flatMap(findTests);
const dir = mkdtempSync(path.join(os.tmpdir(), "switchboard-test-redis-"));
const redis = await startEmbeddedRedis({
  dir,
  log: pino({ level: "warn" }),
  args: ["--appendonly", "no", "--pidfile", path.join(dir, "redis.pid")],
});

const code = await new Promise<number>((resolve) => {
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "--test",
      "--test-concurrency=4",
      // per file: the fuzz and kill tests take minutes on a loaded machine; scripts/test-under-load.sh,
      // which keeps both cores busy on purpose, gives each file longer (TEST_TIMEOUT_MS)
      `--test-timeout=${Number(process.env.TEST_TIMEOUT_MS ?? 300_000)}`,
      "--test-force-exit",
      ...files,
    ],
    { stdio: "inherit", env: { ...process.env, TEST_REDIS_URL: redis.url } },
  );
  child.on("exit", (exitCode, signal) => resolve(exitCode ?? (signal ? 1 : 0)));
});

const problems: string[] = [];
const check = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
try {
  await check.connect();
  const clients = String(await check.client("LIST"))
    .split("\n")
    .filter((line) => line.trim() !== "" && !line.includes("cmd=client"));
  if (clients.length > 0)
    problems.push(`${clients.length} Redis connection(s) left open:\n  ${clients.join("\n  ")}`);
  const keys = await check.keys("*");
  if (keys.length > 0)
    problems.push(`${keys.length} Redis key(s) left behind, e.g. ${keys.slice(0, 10).join(", ")}`);
} finally {
  check.disconnect();
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
}
if (problems.length > 0) {
  process.stderr.write(`\nTest hygiene check failed:\n${problems.join("\n")}\n`);
  process.exit(1);
}
process.exit(code);
