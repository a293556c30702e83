/**
 * Ingest benchmark (issue 3): signed, unique callbacks, 32 connections, against three servers in the same
 * run: a bare Koa app, a minimal hand-written durable receiver, and Switchboard's /events with ROLE=web.
 * Rounds alternate the servers; medians are reported. Goal: Switchboard >= 0.85x the minimal receiver.
 */
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
}

export async function ingestBenchmark(rounds: number, durationSeconds: number): Promise<Row[]> {
  const redis = await startBenchRedis();
  const servers: BenchServer[] = [];
  try {
    servers.push(
      await startServer(
        "bare Koa",
        "bench/servers/bare-koa.ts",
        (port) => [String(port)],
        () => ({}),
        "stdout",
      ),
      await startServer(
        "minimal durable receiver",
        "bench/servers/minimal-receiver.ts",
        (port) => [String(port), redis.url, BENCH_TOKEN, `http://127.0.0.1:${port}`],
        () => ({}),
        "stdout",
      ),
      await startSwitchboard("Switchboard /events (ROLE=web)", redis.url, { ROLE: "web" }),
    );
    const rows: Row[] = servers.map((server) => ({ name: server.name, rounds: [] }));
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
    lines.push(
      "",
      `Switchboard / minimal receiver = **${(rps(switchboard) / rps(minimal)).toFixed(2)}x** (goal >= 0.85x)`,
    );
  }
  return lines.join("\n");
}
