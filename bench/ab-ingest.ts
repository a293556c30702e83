/**
 * Two checkouts' /events side by side, for "did this change make ingest slower?" on a noisy machine:
 * `npx tsx bench/ab-ingest.ts <checkout A> <checkout B>`. Each checkout's Switchboard (ROLE=web, its own
 * example rules, its own Redis) runs for the whole comparison; short rounds at saturation (32
 * connections, signed unique Hangups as bench/ingest.ts) alternate between them, A-B then B-A, so the
 * machine's swings fall on both alike. Reported per checkout: req/s, the server's CPU and Redis's CPU per
 * request (/proc, INFO cpu), the medians of the per-round ratios A/B, and Redis's time per request by
 * command (INFO commandstats: the claim script's total and the commands inside it). Environment:
 * AB_ROUNDS (12), AB_SECONDS (4), AB_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof/ab-{i}", {i}
 * is the checkout's index).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { Redis } from "ioredis";
import { processCpuSeconds, redisCpuSeconds } from "./lib/cpu.ts";
import { median, runLoad } from "./lib/load.ts";
import { BENCH_TOKEN, startBenchRedis } from "./lib/processes.ts";
import { findFreePort } from "../server/redis/find-free-port.ts";

const roots = process.argv.slice(2);
if (roots.length !== 2) throw new Error("usage: npx tsx bench/ab-ingest.ts <checkout A> <checkout B>");
const rounds = Number(process.env.AB_ROUNDS ?? 12);
/** what this script itself sends (between rounds), left out of Redis's time per request */
const HARNESS_COMMANDS = new Set(["flushall", "info", "config|resetstat", "ping", "client|setname"]);
const seconds = Number(process.env.AB_SECONDS ?? 4);

interface Side {
  root: string;
  url: string;
  child: ChildProcess;
  redis: Awaited<ReturnType<typeof startBenchRedis>>;
  client: Redis;
  rps: number[];
  cpu: number[];
  redisCpu: number[];
  requests: number;
}

async function start(root: string, index: number): Promise<Side> {
  const redis = await startBenchRedis();
  const port = await findFreePort();
  const extra = process.env.AB_NODE_ARGS?.replaceAll("{i}", String(index)).split(" ").filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...extra, "--import", "tsx", "server/main.ts"], {
    cwd: root,
    stdio: "ignore",
    env: {
      PATH: process.env.PATH ?? "",
      PORT: String(port),
      HOST: "127.0.0.1",
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      REDIS_URL: redis.url,
      VOBIZ_AUTH_TOKEN: BENCH_TOKEN,
      ADMIN_TOKEN: "bench-admin-token-0123456789",
      LOG_LEVEL: "info",
      ROLE: "web",
    },
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/ready`)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${root} did not become ready`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const client = new Redis(redis.url);
  return { root, url, child, redis, client, rps: [], cpu: [], redisCpu: [], requests: 0 };
}

const fields = (i: number): Record<string, string> => ({
  Event: "Hangup",
  CallUUID: `bench-${i}`,
  From: "919876543210",
  To: "07971442086",
  CallStatus: "completed",
  Duration: "95",
  BillDuration: "120",
  Direction: "inbound",
  HangupCause: "NORMAL_CLEARING",
});

const sides = [await start(roots[0]!, 0), await start(roots[1]!, 1)];
try {
  for (const side of sides) await runLoad(side.url, { path: "/events/bench", durationSeconds: 3, fields });
  for (const side of sides) await side.client.config("RESETSTAT");
  for (let round = 0; round < rounds; round += 1) {
    for (const side of round % 2 === 0 ? sides : [...sides].reverse()) {
      await side.redis.flush();
      const [t0, r0] = [processCpuSeconds(side.child.pid!), await redisCpuSeconds(side.client)];
      const load = await runLoad(side.url, { path: "/events/bench", durationSeconds: seconds, fields });
      side.rps.push(load.requestsPerSecond);
      side.cpu.push(((processCpuSeconds(side.child.pid!) - t0) * 1e6) / load.total);
      side.redisCpu.push((((await redisCpuSeconds(side.client)) - r0) * 1e6) / load.total);
      side.requests += load.total;
    }
    process.stderr.write(
      `round ${round + 1}: ${sides.map((s) => `${Math.round(s.rps.at(-1)!)} req/s, ${Math.round(s.cpu.at(-1)!)} + ${Math.round(s.redisCpu.at(-1)!)} µs`).join("  |  ")}\n`,
    );
  }
  const [a, b] = sides as [Side, Side];
  const ratio = (x: number[], y: number[]): string => median(x.map((v, i) => v / y[i]!)).toFixed(3);
  for (const side of sides) {
    const stats = (await side.client.info("commandstats"))
      .split("\n")
      .map((line) => /^cmdstat_(\S+?):calls=(\d+),usec=(\d+)/.exec(line))
      .filter((m) => m !== null)
      .map((m) => ({ command: m[1]!, usec: Number(m[3]) / side.requests }))
      .filter((s) => s.usec >= 0.05 && !HARNESS_COMMANDS.has(s.command))
      .sort((x, y) => y.usec - x.usec);
    console.log(
      `${side.root}: ${Math.round(median(side.rps))} req/s, server ${Math.round(median(side.cpu))} µs/req, ` +
        `Redis ${Math.round(median(side.redisCpu))} µs/req (medians of ${rounds} rounds)\n` +
        `  Redis µs per request by command: ${stats.map((s) => `${s.command} ${s.usec.toFixed(1)}`).join(", ")}`,
    );
  }
  console.log(
    `A/B, medians of the per-round ratios: req/s ${ratio(a.rps, b.rps)}, server CPU ${ratio(a.cpu, b.cpu)}, ` +
      `Redis CPU ${ratio(a.redisCpu, b.redisCpu)}`,
  );
} finally {
  for (const side of sides) {
    const exited = new Promise((resolve) => side.child.once("exit", resolve));
    side.child.kill("SIGTERM");
    await exited;
    side.client.disconnect();
    await side.redis.stop();
  }
}
