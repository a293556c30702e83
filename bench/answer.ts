/**
 * Answer benchmark (issue 6): `/answer/support` requests (the example IVR's welcome step: evaluate the
 * rules, render templates/ivr/welcome.xml, check it as Vobiz XML, store the event) for Switchboard with
 * ROLE=web, against the minimal durable receiver of the ingest benchmark, in the same run; then the
 * latency of both at a steady 500 requests/s. Goals: >= 0.7x the receiver, p99 under 10 ms.
 * The business-hours example is left out so the welcome step plays whatever the clock says.
 */
import { cp, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { median, runLoad, type LoadResult } from "./lib/load.ts";
import {
  BENCH_TOKEN,
  ROOT,
  startBenchRedis,
  startServer,
  startSwitchboard,
  type BenchServer,
} from "./lib/processes.ts";

export async function answerBenchmark(rounds: number, seconds: number): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "switchboard-bench-answer-"));
  await cp(path.join(ROOT, "rules"), path.join(dir, "rules"), {
    recursive: true,
    filter: (file) => !file.endsWith("business-hours.json"),
  });
  await cp(path.join(ROOT, "templates"), path.join(dir, "templates"), { recursive: true });
  const redis = await startBenchRedis();
  const servers: BenchServer[] = [];
  try {
    servers.push(
      await startServer(
        "minimal durable receiver",
        "bench/servers/minimal-receiver.ts",
        (port) => [String(port), redis.url, BENCH_TOKEN, `http://127.0.0.1:${port}`],
        () => ({}),
        "stdout",
      ),
      await startSwitchboard("Switchboard /answer/support (ROLE=web)", redis.url, {
        ROLE: "web",
        RULES_DIR: path.join(dir, "rules"),
        TEMPLATES_DIR: path.join(dir, "templates"),
      }),
    );
    const fields = (i: number): Record<string, string> => ({
      Event: "StartApp",
      CallUUID: `bench-${i}`,
      From: "919876543210",
      To: "918040001234",
      Direction: "inbound",
      CallStatus: "in-progress",
    });
    const load = { path: "/answer/support", fields };
    for (const server of servers) await runLoad(server.url, { ...load, durationSeconds: 2 });
    const results = new Map<string, LoadResult[]>(servers.map((server) => [server.name, []]));
    for (let round = 0; round < rounds; round += 1) {
      for (let k = 0; k < servers.length; k += 1) {
        const server = servers[(k + round) % servers.length]!;
        await redis.flush();
        const result = await runLoad(server.url, { ...load, durationSeconds: seconds });
        results.get(server.name)?.push(result);
        process.stderr.write(
          `round ${round + 1} ${server.name}: ${Math.round(result.requestsPerSecond)} req/s, p99 ${result.p99} ms\n`,
        );
      }
    }
    // steady load: 8 connections, because autocannon paces a fixed rate per connection and with 32 of them
    // at 500 req/s it sends bursts at each second's start (even the minimal receiver then shows p99 > 100 ms)
    const steady: Array<[string, LoadResult]> = [];
    for (const server of servers) {
      await redis.flush();
      steady.push([
        server.name,
        await runLoad(server.url, { ...load, durationSeconds: seconds, rate: 500, connections: 8 }),
      ]);
    }
    const rps = (name: string): number => median((results.get(name) ?? []).map((r) => r.requestsPerSecond));
    const [receiver, sb] = servers.map((server) => server.name) as [string, string];
    return [
      "| server | req/s (median) | p50 ms | p99 ms | non-2xx | errors |",
      "|---|---|---|---|---|---|",
      ...[...results].map(
        ([name, rows]) =>
          `| ${name} | ${Math.round(rps(name))} | ${median(rows.map((r) => r.p50))} | ${median(rows.map((r) => r.p99))} | ${rows.reduce((s, r) => s + r.non2xx, 0)} | ${rows.reduce((s, r) => s + r.errors, 0)} |`,
      ),
      "",
      `Switchboard /answer / minimal receiver = **${(rps(sb) / rps(receiver)).toFixed(2)}x** (goal >= 0.7x)`,
      "",
      `At a steady 500 req/s (8 connections, ${seconds} s each):`,
      "",
      "| server | requests | p50 ms | p99 ms | non-2xx | errors |",
      "|---|---|---|---|---|---|",
      ...steady.map(
        ([name, r]) => `| ${name} | ${r.total} | ${r.p50} | **${r.p99}** | ${r.non2xx} | ${r.errors} |`,
      ),
      "",
      "Goal: Switchboard's p99 under 10 ms.",
    ].join("\n");
  } finally {
    for (const server of servers) await server.stop();
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
