/**
 * CPU per event at a fixed offered rate, for comparing two checkouts on a noisy machine (docs/BENCHMARKS.md):
 * `npx tsx bench/cpu-per-event.ts <checkout> <events/s | max> [deliver|ingest|answer]`. deliver: Switchboard
 * ROLE=all with one forward rule to a local sink, CPU per delivered event; ingest: ROLE=web /events; answer:
 * ROLE=web /answer/support with the checkout's own example rules (less business hours, as bench/answer.ts).
 * Reports the server process's CPU (/proc) and Redis's (INFO cpu) per event. Run the checkouts alternately,
 * several times. `max` offers as fast as the server answers. Environment: BENCH_SECONDS (8), BENCH_CONNECTIONS
 * (8; bench/ingest.ts uses 32), BENCH_OWN_RULES=1 (the checkout's example rules in every mode),
 * BENCH_COMMANDSTATS=1 (where Redis spent its time), BENCH_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=DIR"),
 * BENCH_STDOUT (a file for the server's log).
 */
import { spawn } from "node:child_process";
import { openSync, readFileSync } from "node:fs";
import { Redis } from "ioredis";
import { processCpuSeconds, redisCpuSeconds } from "./lib/cpu.ts";
import { runLoad } from "./lib/load.ts";
import { BENCH_TOKEN, startBenchRedis } from "./lib/processes.ts";
import { findFreePort } from "../server/redis/find-free-port.ts";

const root = process.argv[2]!;
// "max": as fast as the server answers (BENCH_CONNECTIONS connections, default 8)
const rate = process.argv[3] === "max" ? undefined : Number(process.argv[3] ?? 500);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 8);
const mode = process.argv[4] ?? "deliver";
import { mkdtempSync, writeFileSync, cpSync, mkdirSync } from "node:fs";
import { createServer } from "node:http";
let delivered = 0;
const sink = createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    delivered += 1;
    res.end("ok");
  });
});
await new Promise<void>((r) => sink.listen(0, "127.0.0.1", r));
const sinkPort = (sink.address() as { port: number }).port;
const dir = mkdtempSync("/tmp/cpu-deliver-");
mkdirSync(`${dir}/rules`);
writeFileSync(
  `${dir}/rules/f.json`,
  JSON.stringify({
    rules: [
      {
        id: "crm",
        on: "Hangup",
        actions: [{ type: "forward", url: `http://127.0.0.1:${sinkPort}/crm?caller=<<caller_e164>>` }],
      },
    ],
  }),
);
cpSync(`${root}/templates`, `${dir}/templates`, { recursive: true });
// BENCH_OWN_RULES=1: the checkout's own example rules in every mode (bench/ingest.ts runs with them)
if (mode === "answer" || process.env.BENCH_OWN_RULES !== undefined) {
  cpSync(`${root}/rules`, `${dir}/rules`, {
    recursive: true,
    filter: (file) => !file.endsWith("business-hours.json"),
  });
}
const redis = await startBenchRedis();
const port = await findFreePort();
// BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the server
const nodeArgs = process.env.BENCH_NODE_ARGS?.split(" ").filter(Boolean) ?? [];
const child = spawn(process.execPath, [...nodeArgs, "--import", "tsx", "server/main.ts"], {
  cwd: root,
  env: {
    PATH: process.env.PATH!,
    PORT: String(port),
    HOST: "127.0.0.1",
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    REDIS_URL: redis.url,
    VOBIZ_AUTH_TOKEN: BENCH_TOKEN,
    ADMIN_TOKEN: "bench-admin-token-0123456789",
    LOG_LEVEL: "info",
    ROLE: mode === "deliver" ? "all" : "web",
    RULES_DIR: `${dir}/rules`,
    TEMPLATES_DIR: `${dir}/templates`,
  },
  stdio: [
    "ignore",
    process.env.BENCH_STDOUT === undefined ? "ignore" : openSync(process.env.BENCH_STDOUT, "w"),
    "inherit",
  ],
});
const url = `http://127.0.0.1:${port}`;
for (;;) {
  try {
    if ((await fetch(url + "/ready")).status === 200) break;
  } catch {
    // not listening yet
  }
  await new Promise((r) => setTimeout(r, 100));
}
const answerFields = (i: number) => ({
  Event: "StartApp",
  CallUUID: `b-${i}`,
  From: "919876543210",
  To: "918040001234",
  Direction: "inbound",
  CallStatus: "in-progress",
});
const target = mode === "answer" ? "/answer/support" : "/events/bench";
const hangupFields = (i: number) => ({
  Event: "Hangup",
  CallUUID: `b-${i}`,
  From: "919876543210",
  To: "07971442086",
  CallStatus: "completed",
});
const fields = mode === "answer" ? answerFields : hangupFields;
await runLoad(url, {
  path: target,
  durationSeconds: 2,
  ...(rate === undefined ? {} : { rate }),
  fields,
  connections,
});
const client = new Redis(redis.url);
const redisCpu = () => redisCpuSeconds(client);
const [t0, r0, d0] = [processCpuSeconds(child.pid!), await redisCpu(), delivered];
const load = await runLoad(url, {
  path: target,
  durationSeconds: Number(process.env.BENCH_SECONDS ?? 8),
  ...(rate === undefined ? {} : { rate }),
  fields,
  connections,
});
while (mode === "deliver" && delivered - d0 < load.total) await new Promise((r) => setTimeout(r, 50));
const [t1, r1] = [processCpuSeconds(child.pid!), await redisCpu()];
const n = load.total;
// the server's peak resident memory (the young generation's size shows here)
const peakRss = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))?.[1];
console.log(
  `${root}: ${n} req (${Math.round(load.requestsPerSecond)}/s), non2xx ${load.non2xx}, server ${Math.round(((t1 - t0) * 1e6) / n)} µs/req, redis ${Math.round(((r1 - r0) * 1e6) / n)} µs/req, peak RSS ${Math.round(Number(peakRss) / 1024)} MiB`,
);
if (process.env.BENCH_COMMANDSTATS !== undefined) {
  // where Redis spent its time: the commands by total µs, most first
  const stats = (await client.info("commandstats"))
    .split("\n")
    .map((line) => /^cmdstat_(\S+?):calls=(\d+),usec=(\d+)/.exec(line))
    .filter((m) => m !== null)
    .map((m) => ({ command: m[1], calls: Number(m[2]), usec: Number(m[3]) }))
    .sort((a, b) => b.usec - a.usec);
  for (const s of stats.slice(0, 12)) console.log(`  ${s.command}: ${s.calls} calls, ${s.usec} µs`);
}
child.kill("SIGTERM");
client.disconnect();
sink.close();
await redis.stop();
process.exit(0);
