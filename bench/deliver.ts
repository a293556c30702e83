/**
 * End-to-end delivery benchmark (issue 5): signed callbacks in, forwards delivered to a local sink, for
 * Switchboard (ROLE=all, one process, one forward rule) against a hand-written reference (one process:
 * Koa receiver with one awaited Bull add, plus a Bull worker at concurrency 50 posting each job with
 * undici). Each round loads one server for the given time, then waits until every accepted event has
 * been delivered. Events/s = delivered events / (last delivery - start). Goal: >= 0.8x, nothing lost.
 */
import { cp, mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { median, runLoad } from "./lib/load.ts";
import {
  BENCH_TOKEN,
  ROOT,
  startBenchRedis,
  startServer,
  startSwitchboard,
  type BenchServer,
} from "./lib/processes.ts";

interface Round {
  accepted: number;
  delivered: number;
  eventsPerSecond: number;
  non2xx: number;
}

const sinkCount = async (sink: BenchServer): Promise<{ count: number; last: number }> =>
  (await (await fetch(`${sink.url}/count`)).json()) as { count: number; last: number };

export async function deliverBenchmark(rounds: number, seconds: number): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "switchboard-bench-deliver-"));
  const redis = await startBenchRedis();
  const servers: BenchServer[] = [];
  const sink = await startServer(
    "sink",
    "bench/servers/sink.ts",
    (port) => [String(port)],
    () => ({}),
    "stdout",
  );
  try {
    await mkdir(path.join(dir, "rules"));
    await writeFile(
      path.join(dir, "rules", "forward.json"),
      JSON.stringify({
        rules: [
          {
            id: "crm",
            on: "Hangup",
            actions: [{ type: "forward", url: `${sink.url}/crm?caller=<<caller_e164>>` }],
          },
        ],
      }),
    );
    await cp(path.join(ROOT, "templates"), path.join(dir, "templates"), { recursive: true });
    servers.push(
      await startServer(
        "reference (Koa + Bull add + Bull worker x50 + undici)",
        "bench/servers/reference-forwarder.ts",
        (port) => [String(port), redis.url, BENCH_TOKEN, `http://127.0.0.1:${port}`, `${sink.url}/crm`],
        () => ({}),
        "stdout",
      ),
      await startSwitchboard("Switchboard (ROLE=all)", redis.url, {
        RULES_DIR: path.join(dir, "rules"),
        TEMPLATES_DIR: path.join(dir, "templates"),
      }),
      // the reference's worker runs 50 jobs at once; the same figure for Switchboard's deliveries
      await startSwitchboard("Switchboard (ROLE=all, ACTION_CONCURRENCY=50)", redis.url, {
        RULES_DIR: path.join(dir, "rules"),
        TEMPLATES_DIR: path.join(dir, "templates"),
        ACTION_CONCURRENCY: "50",
        REDIS_PREFIX: "switchboard-c50",
      }),
    );
    const fields = (i: number): Record<string, string> => ({
      Event: "Hangup",
      CallUUID: `bench-${i}`,
      From: "919876543210",
      To: "07971442086",
      CallStatus: "completed",
      Duration: "95",
      Direction: "inbound",
    });
    const results = new Map<string, Round[]>(servers.map((server) => [server.name, []]));
    for (let round = 0; round < rounds + 1; round += 1) {
      for (let k = 0; k < servers.length; k += 1) {
        const server = servers[(k + round) % servers.length]!;
        await redis.flush();
        await fetch(`${sink.url}/count`, { method: "DELETE" });
        const started = Date.now();
        const load = await runLoad(server.url, {
          path: "/events/bench",
          durationSeconds: round === 0 ? 2 : seconds,
          fields,
        });
        const accepted = load.total - load.non2xx;
        const deadline = Date.now() + 120_000;
        let state = await sinkCount(sink);
        while (state.count < accepted && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 200));
          state = await sinkCount(sink);
        }
        if (round === 0) continue; // warm-up
        const result = {
          accepted,
          delivered: state.count,
          eventsPerSecond: state.count / ((state.last - started) / 1000),
          non2xx: load.non2xx,
        };
        results.get(server.name)?.push(result);
        process.stderr.write(
          `round ${round} ${server.name}: ${Math.round(result.eventsPerSecond)} events/s, ${accepted} accepted, ${state.count} delivered\n`,
        );
      }
    }
    const rate = (name: string): number => median((results.get(name) ?? []).map((r) => r.eventsPerSecond));
    const [reference, switchboard, matched] = servers.map((server) => server.name) as [
      string,
      string,
      string,
    ];
    return [
      "| server | delivered events/s (median) | accepted | delivered | lost | non-2xx |",
      "|---|---|---|---|---|---|",
      ...[...results].map(([name, rows]) => {
        const sum = (pick: (r: Round) => number): number => rows.reduce((total, r) => total + pick(r), 0);
        return `| ${name} | ${Math.round(rate(name))} | ${sum((r) => r.accepted)} | ${sum((r) => r.delivered)} | ${sum((r) => Math.max(0, r.accepted - r.delivered))} | ${sum((r) => r.non2xx)} |`;
      }),
      "",
      `Switchboard / reference = **${(rate(switchboard) / rate(reference)).toFixed(2)}x** with the defaults, ` +
        `**${(rate(matched) / rate(reference)).toFixed(2)}x** with ACTION_CONCURRENCY=50 (goal >= 0.8x)`,
    ].join("\n");
  } finally {
    for (const server of servers) await server.stop();
    await sink.stop();
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
