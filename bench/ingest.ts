/**
 * Ingest benchmark (issue 3): signed, unique callbacks, 32 connections, against three servers in the same
 * run: a bare Koa app, a minimal hand-written durable receiver, and Switchboard's /events with ROLE=web.
 * Rounds alternate the servers; medians are reported. Goal: Switchboard >= 0.85x the minimal receiver.
 * Then the minimal receiver and Switchboard are offered the same fixed rate (BENCH_INGEST_RATE, default
 * 1000/s) in alternating rounds, and each one's CPU per request is measured: its Node process (/proc) and
 * Redis (INFO cpu). On a shared machine that figure moves far less than req/s at saturation.
 * BENCH_SERVER_CPUS (e.g. "0") pins the three servers to those CPUs (taskset); start the benchmark itself
 * on the others (`taskset -c 1 npm run bench -- ingest`) and Redis and the load generator stay there, as
 * in production, where neither shares the web process's cores.
 */
import { execFileSync } from "node:child_process";
import { Redis } from "ioredis";
import { processCpuSeconds, redisCpuSeconds } from "./lib/cpu.ts";
import { median, runLoad, type LoadResult } from "./lib/load.ts";
import {
  BENCH_TOKEN,
  startBenchRedis,
  startServer,
  startSwitchboard,
  type BenchServer,
} from "./lib/processes.ts";

export interface Row {
  name: string;
  rounds: LoadResult[];
  /** CPU per request at the fixed rate, one entry per round (µs): the server process, and Redis */
  cpu: Array<{ server: number; redis: number }>;
}

const FIXED_RATE = Number(process.env.BENCH_INGEST_RATE ?? 1000);

export async function ingestBenchmark(rounds: number, durationSeconds: number): Promise<Row[]> {
  const redis = await startBenchRedis();
  const servers: BenchServer[] = [];
  try {
    // each server is pushed as soon as it runs, so that a later one failing to start still stops it
    servers.push(
      await startServer(
        "bare Koa",
        "bench/servers/bare-koa.ts",
        (port) => [String(port)],
        () => ({}),
        "stdout",
      ),
    );
    servers.push(
      await startServer(
        "minimal durable receiver",
        "bench/servers/minimal-receiver.ts",
        (port) => [String(port), redis.url, BENCH_TOKEN, `http://127.0.0.1:${port}`],
        () => ({}),
        "stdout",
      ),
    );
    servers.push(await startSwitchboard("Switchboard /events (ROLE=web)", redis.url, { ROLE: "web" }));
    const pinned = process.env.BENCH_SERVER_CPUS;
    if (pinned !== undefined && pinned !== "")
      for (const server of servers) execFileSync("taskset", ["-a", "-cp", pinned, String(server.child.pid)]);
    const rows: Row[] = servers.map((server) => ({ name: server.name, rounds: [], cpu: [] }));
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
    for (const server of servers)
      await runLoad(server.url, { path: "/events/bench", durationSeconds: 2, fields });
    for (let round = 0; round < rounds; round += 1) {
      for (let k = 0; k < servers.length; k += 1) {
        const index = (k + round) % servers.length;
        const server = servers[index]!;
        await redis.flush();
        const result = await runLoad(server.url, { path: "/events/bench", durationSeconds, fields });
        rows[index]!.rounds.push(result);
        process.stderr.write(
          `round ${round + 1} ${server.name}: ${Math.round(result.requestsPerSecond)} req/s, p99 ${result.p99} ms, non-2xx ${result.non2xx}\n`,
        );
      }
    }
    // CPU per request at a fixed offered rate: the minimal receiver and Switchboard, alternating
    const client = new Redis(redis.url);
    try {
      const measured = [1, 2];
      for (let round = 0; round < rounds; round += 1) {
        for (const index of round % 2 === 0 ? measured : [...measured].reverse()) {
          const server = servers[index]!;
          await redis.flush();
          const [server0, redis0] = [processCpuSeconds(server.child.pid!), await redisCpuSeconds(client)];
          const result = await runLoad(server.url, {
            path: "/events/bench",
            durationSeconds,
            fields,
            rate: FIXED_RATE,
          });
          const [server1, redis1] = [processCpuSeconds(server.child.pid!), await redisCpuSeconds(client)];
          const cpu = {
            server: ((server1 - server0) * 1e6) / result.total,
            redis: ((redis1 - redis0) * 1e6) / result.total,
          };
          rows[index]!.cpu.push(cpu);
          process.stderr.write(
            `round ${round + 1} ${server.name} at ${FIXED_RATE}/s: ${Math.round(cpu.server)} + ${Math.round(cpu.redis)} µs/request (server + Redis), non-2xx ${result.non2xx}\n`,
          );
        }
      }
    } finally {
      client.disconnect();
    }
    return rows;
  } finally {
    for (const server of servers) await server.stop();
    await redis.stop();
  }
}

export function ingestReport(rows: Row[]): string {
  const rps = (row: Row): number => median(row.rounds.map((r) => r.requestsPerSecond));
  const minimal = rows.find((row) => row.name.startsWith("minimal"));
  const switchboard = rows.find((row) => row.name.startsWith("Switchboard"));
  const lines = [
    "| server | req/s (median) | p50 ms | p99 ms | non-2xx | errors |",
    "|---|---|---|---|---|---|",
    ...rows.map(
      (row) =>
        `| ${row.name} | ${Math.round(rps(row))} | ${median(row.rounds.map((r) => r.p50))} | ${median(row.rounds.map((r) => r.p99))} | ` +
        `${row.rounds.reduce((sum, r) => sum + r.non2xx, 0)} | ${row.rounds.reduce((sum, r) => sum + r.errors, 0)} |`,
    ),
  ];
  if (minimal && switchboard) {
    // each round's Switchboard figure against the same round's receiver: less exposed to one slow round
    const paired = (of: (row: Row) => number[]): string =>
      median(of(switchboard).map((value, i) => value / of(minimal)[i]!)).toFixed(2);
    lines.push(
      "",
      `Switchboard / minimal receiver = **${(rps(switchboard) / rps(minimal)).toFixed(2)}x** (goal >= 0.85x); ` +
        `median of the rounds' own ratios ${paired((row) => row.rounds.map((r) => r.requestsPerSecond))}x`,
    );
    const us = (values: number[]): number => Math.round(median(values));
    const total = (row: Row): number[] => row.cpu.map((c) => c.server + c.redis);
    const columns: Array<(row: Row) => number[]> = [
      (row) => row.cpu.map((c) => c.server),
      (row) => row.cpu.map((c) => c.redis),
      total,
    ];
    lines.push(
      "",
      `CPU per request at ${FIXED_RATE} requests/s (medians of ${minimal.cpu.length} alternating rounds, µs):`,
      "",
      "| server | Node process | Redis | both |",
      "|---|---|---|---|",
      ...[minimal, switchboard].map(
        (row) => `| ${row.name} | ${columns.map((of) => us(of(row))).join(" | ")} |`,
      ),
      `| Switchboard / minimal receiver, the medians above | ${columns
        .map((of) => `${(median(of(switchboard)) / median(of(minimal))).toFixed(2)}x`)
        .join(" | ")} |`,
      `| Switchboard / minimal receiver, median of the rounds' own ratios | ${columns
        .map((of) => `${paired(of)}x`)
        .join(" | ")} |`,
    );
  }
  return lines.join("\n");
}
