/**
 * Sentinel failover, nothing lost: real redis-server processes (a primary and two replicas) and a real
 * redis-sentinel on 127.0.0.1; a web and a worker instance find the primary through Sentinel
 * (REDIS_SENTINELS) and acknowledge an event only once a replica has it (REDIS_MIN_REPLICAS=1). Under
 * steady signed load the primary is killed with -9; Sentinel promotes a replica and the service follows
 * it. Every event that got a 200 is processed; every other request got a 503 or no answer in time.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { Redis } from "ioredis";
import { loadConfig } from "../../server/config/load-config.ts";
import { startService, type Service } from "../../server/main.ts";
import { createLogSink } from "../helpers/log-sink.ts";
import { hasRedisSentinel, startTopology } from "../helpers/redis-topology.ts";
import { FIXTURES, TEST_ADMIN_TOKEN, TEST_AUTH_TOKEN, TEST_PUBLIC_URL } from "../helpers/service.ts";
import { uniquePrefix } from "../helpers/redis.ts";
import { traceState } from "../helpers/traces.ts";
import { sendVobiz } from "../helpers/vobiz.ts";

assert.ok(hasRedisSentinel(), "redis-sentinel is not installed: run `bash scripts/ensure-redis.sh` as root");
const topology = await startTopology({ replicas: 2, sentinel: true });
const { sentinel } = topology;
assert.ok(sentinel !== undefined);
const prefix = uniquePrefix(import.meta.url);
const dataDir = mkdtempSync(path.join(os.tmpdir(), "switchboard-failover-"));
const services: Service[] = [];
after(async () => {
  for (const service of services.reverse()) await service.close();
  await topology.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const env = (role: string): Record<string, string> => ({
  PORT: "0",
  HOST: "127.0.0.1",
  PUBLIC_URL: TEST_PUBLIC_URL,
  REDIS_SENTINELS: `127.0.0.1:${sentinel.port}`,
  REDIS_SENTINEL_NAME: topology.masterName,
  REDIS_MIN_REPLICAS: "1",
  REDIS_MIN_REPLICAS_TIMEOUT: "900ms",
  REDIS_PREFIX: prefix,
  VOBIZ_AUTH_TOKEN: TEST_AUTH_TOKEN,
  ADMIN_TOKEN: TEST_ADMIN_TOKEN,
  RULES_DIR: path.join(FIXTURES, "rules", "empty"),
  TEMPLATES_DIR: path.resolve(import.meta.dirname, "../../templates"),
  DATA_DIR: dataDir,
  ROLE: role,
  JOB_LOCK_TIMEOUT: "2s",
  LOG_LEVEL: "warn",
});
const web = await startService(loadConfig(env("web")), createLogSink("warn").log);
services.push(web);
services.push(await startService(loadConfig(env("worker")), createLogSink("warn").log));
const webUrl = web.url ?? "";

async function until<T>(what: string, attempt: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await attempt().catch(() => undefined);
    if (value !== undefined) return value;
    assert.ok(Date.now() < deadline, `${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

type Outcome = { callUuid: string; status: number | "no answer"; id?: string; at: number };

test("kill -9 of the primary under load: Sentinel promotes a replica, no acknowledged event is lost", async () => {
  const outcomes: Outcome[] = [];
  let stop = false;
  const sender = async (lane: number): Promise<void> => {
    for (let i = 0; !stop; i += 1) {
      const callUuid = `failover-${lane}-${i}`;
      try {
        const response = await sendVobiz(
          webUrl,
          "/events",
          { Event: "Hangup", CallUUID: callUuid },
          { signal: AbortSignal.timeout(5000), retries: 0 },
        );
        const body = (await response.json()) as { id?: string };
        outcomes.push({ callUuid, status: response.status, id: body.id, at: Date.now() });
        if (response.status !== 200) await new Promise((resolve) => setTimeout(resolve, 50));
      } catch {
        outcomes.push({ callUuid, status: "no answer", at: Date.now() });
      }
    }
  };
  const acked = (): Outcome[] => outcomes.filter((outcome) => outcome.status === 200);
  const lanes = [0, 1, 2, 3].map((lane) => sender(lane));
  try {
    await until(
      "50 events acknowledged before the kill",
      () => Promise.resolve(acked().length >= 50 ? true : undefined),
      30_000,
    );
    await until(
      "Sentinel knows both replicas",
      async () => ((await sentinel.knownReplicas()) === 2 ? true : undefined),
      30_000,
    );
    const killedAt = Date.now();
    topology.primary.kill();
    const promoted = await until(
      "Sentinel promotes a replica",
      async () => {
        const port = await sentinel.primaryPort();
        return port !== topology.primary.port ? port : undefined;
      },
      60_000,
    );
    const promotedAt = Date.now();
    let lastReady = "";
    await until(
      "the service is ready again after the promotion",
      async () => {
        const ready = await fetch(`${webUrl}/ready`);
        lastReady = `${ready.status} ${await ready.text()}`;
        return ready.status === 200 ? true : undefined;
      },
      30_000,
    ).catch((error: unknown) => {
      throw new Error(`not ready 30 s after the promotion; /ready said ${lastReady}`, { cause: error });
    });
    const before = acked().length;
    await until(
      "50 more events acknowledged on the new primary",
      () => Promise.resolve(acked().length >= before + 50 ? true : undefined),
      30_000,
    );
    stop = true;
    await Promise.all(lanes);

    for (const outcome of outcomes) {
      assert.ok(
        outcome.status === 200 || outcome.status === 503 || outcome.status === "no answer",
        `${outcome.callUuid}: ${String(outcome.status)}`,
      );
    }
    const primary = new Redis(promoted, "127.0.0.1", { maxRetriesPerRequest: 1 });
    try {
      const ids = acked().map((outcome) => outcome.id ?? "");
      // every acknowledged event is on the new primary and processed by the worker
      await until(
        "every acknowledged event processed",
        async () => {
          const states = await Promise.all(ids.map((id) => traceState(primary, prefix, id)));
          const missing = ids.filter((_, i) => states[i] !== "dispatched");
          return missing.length === 0 ? true : undefined;
        },
        60_000,
      ).catch(async (error: unknown) => {
        const states = await Promise.all(ids.map((id) => traceState(primary, prefix, id)));
        const lost = ids.filter((_, i) => states[i] === null);
        const waiting = ids.filter((_, i) => states[i] !== null && states[i] !== "dispatched");
        throw new Error(
          `${lost.length} acknowledged event(s) lost (${lost.slice(0, 5).join(", ")}), ` +
            `${waiting.length} stored but not processed within 60 s`,
          { cause: error },
        );
      });
    } finally {
      primary.disconnect();
    }
    const unanswered = outcomes.filter((outcome) => outcome.status !== 200).length;
    process.stderr.write(
      `failover: ${outcomes.length} requests, ${acked().length} acknowledged, ${unanswered} refused or ` +
        `unanswered; promoted ${promotedAt - killedAt} ms after the kill\n`,
    );
  } finally {
    stop = true;
    await Promise.all(lanes);
  }
});
