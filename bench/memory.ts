/**
 * Redis memory per retained event (issue 14): a ~320-byte Hangup callback that matches four forwards, all
 * delivered to a local sink. Sends N signed events to Switchboard (ROLE=all, defaults), waits until the
 * sink has every delivery and the actions queue has nothing active or waiting, then reads Redis
 * `INFO memory` (`used_memory`) before and after: (after - before) / N. Goal: <= 2.5 KB per event.
 */
import { cp, mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { signRequest } from "../server/signatures/vobiz-signature.ts";
import { BENCH_TOKEN, ROOT, startBenchRedis, startServer, startSwitchboard } from "./lib/processes.ts";

const usedMemory = async (redis: Redis): Promise<number> =>
  Number(/used_memory:(\d+)/.exec(await redis.info("memory"))?.[1] ?? NaN);

/** A Hangup as Vobiz sends it (form-encoded, about 320 bytes). */
export function hangupBody(i: number): string {
  return new URLSearchParams({
    Event: "Hangup",
    CallUUID: `9f1a2b3c-4d5e-6f70-8192-${String(i).padStart(12, "0")}`,
    From: "919876543210",
    To: "918031234567",
    CallStatus: "completed",
    Direction: "inbound",
    Duration: "95",
    BillDuration: "95",
    HangupCause: "NORMAL_CLEARING",
    StartTime: "2026-12-01 10:15:02",
    AnswerTime: "2026-12-01 10:15:07",
    EndTime: "2026-12-01 10:16:42",
    TotalCost: "0.95000",
  }).toString();
}

export async function memoryBenchmark(events: number): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "switchboard-bench-memory-"));
  const redis = await startBenchRedis();
  const client = new Redis(redis.url);
  const sink = await startServer(
    "sink",
    "bench/servers/sink.ts",
    (p) => [String(p)],
    () => ({}),
    "stdout",
  );
  let server: Awaited<ReturnType<typeof startSwitchboard>> | undefined;
  try {
    await mkdir(path.join(dir, "rules"));
    const forward = (name: string): Record<string, unknown> => ({
      type: "forward",
      url: `${sink.url}/${name}?caller=<<caller_e164>>&call=<<CallUUID>>`,
    });
    await writeFile(
      path.join(dir, "rules", "hangups.json"),
      JSON.stringify({
        rules: ["crm", "warehouse", "slack", "audit"].map((name) => ({
          id: `hangup-to-${name}`,
          description: `every hangup to the ${name}`,
          on: "Hangup",
          actions: [forward(name)],
        })),
      }),
    );
    await cp(path.join(ROOT, "templates"), path.join(dir, "templates"), { recursive: true });
    server = await startSwitchboard("Switchboard (ROLE=all)", redis.url, {
      RULES_DIR: path.join(dir, "rules"),
      TEMPLATES_DIR: path.join(dir, "templates"),
      LOG_LEVEL: "warn",
    });
    const url = `${server.url}/events/vobiz/hangup`;
    const publicBase = url; // PUBLIC_URL is the server's own origin
    const send = async (i: number): Promise<void> => {
      const response = await fetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          ...signRequest(publicBase, BENCH_TOKEN, { schemes: ["v3"] }),
        },
        body: hangupBody(i),
      });
      if (response.status !== 200) throw new Error(`event ${i}: ${response.status} ${await response.text()}`);
    };
    // warm up (the first events create the queues' own keys), then settle
    for (let i = 0; i < 20; i += 1) await send(-1 - i);
    await settle(client, sink.url, 80);
    const before = await usedMemory(client);
    const keysBefore = await client.dbsize();
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < events) await send((next += 1));
      }),
    );
    await settle(client, sink.url, 80 + events * 4);
    const after = await usedMemory(client);
    const keysAfter = await client.dbsize();
    const perEvent = (after - before) / events;
    const breakdown = await keyBreakdown(client);
    return [
      `| events | deliveries | Redis keys added | used_memory added | per event |`,
      `|---|---|---|---|---|`,
      `| ${events} | ${events * 4} | ${keysAfter - keysBefore} | ${Math.round((after - before) / 1024)} KiB | **${(perEvent / 1024).toFixed(2)} KiB** |`,
      "",
      "Per key kind (`MEMORY USAGE`, mean of a sample of 50; the index is one sorted set for all events):",
      "",
      "| key | bytes per event |",
      "|---|---|",
      ...breakdown.map(([kind, bytes]) => `| ${kind} | ${Math.round(bytes)} |`),
      "",
      `Goal: <= 2.5 KB per retained event: **${perEvent <= 2500 ? "met" : "not met"}** (${Math.round(perEvent)} bytes)`,
    ].join("\n");
  } finally {
    await server?.stop();
    await sink.stop();
    client.disconnect();
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Waits until the sink has `deliveries` and no action job is active, waiting or delayed. */
async function settle(redis: Redis, sinkUrl: string, deliveries: number): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const { count } = (await (await fetch(`${sinkUrl}/count`)).json()) as { count: number };
    const pending = await Promise.all(
      ["active", "wait", "delayed"].map(async (state) => {
        const keys = await redis.keys(`*:actions:${state}`);
        let total = 0;
        for (const key of keys) total += state === "delayed" ? await redis.zcard(key) : await redis.llen(key);
        return total;
      }),
    );
    if (count >= deliveries && pending.every((n) => n === 0)) return;
    if (Date.now() > deadline) throw new Error(`not settled: ${count} of ${deliveries} delivered`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Mean MEMORY USAGE of a sample of each kind of key an event leaves, and the index's share per event. */
async function keyBreakdown(redis: Redis): Promise<Array<[string, number]>> {
  const rows: Array<[string, number]> = [];
  for (const kind of ["trace", "dedup", "nonce"]) {
    const [, keys] = await redis.scan("0", "MATCH", `*:${kind}:*`, "COUNT", 5000);
    const sample = keys.slice(0, 50);
    let total = 0;
    for (const key of sample) total += Number(await redis.call("MEMORY", "USAGE", key, "SAMPLES", "0"));
    if (sample.length > 0) rows.push([kind, total / sample.length]);
  }
  const [index] = await redis.keys("*:index:events");
  if (index !== undefined) {
    const usage = Number(await redis.call("MEMORY", "USAGE", index, "SAMPLES", "0"));
    rows.push(["index (share)", usage / Math.max(1, await redis.zcard(index))]);
  }
  // the calls' index: one hash per day, a field per call (here one event per call)
  for (const calls of await redis.keys("*:calls:*")) {
    const usage = Number(await redis.call("MEMORY", "USAGE", calls, "SAMPLES", "0"));
    rows.push(["calls index (share)", usage / Math.max(1, await redis.hlen(calls))]);
  }
  const [trace] = (await redis.scan("0", "MATCH", "*:trace:*", "COUNT", 5000))[1];
  if (trace !== undefined) {
    for (const line of ((await redis.get(trace)) ?? "").split("\n")) {
      for (const [name, value] of Object.entries(JSON.parse(line) as Record<string, unknown>))
        rows.push([`trace: ${name.replace(/:.*/, ":…")}`, name.length + JSON.stringify(value).length]);
    }
  }
  return rows;
}
