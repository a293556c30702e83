/**
 * Start and run whatever Redis does: a service started before Redis is reachable waits (the port answers
 * /ready 503 with the reason) and becomes ready when Redis comes; a Redis restart mid-run is survived by
 * every connection: the command connection (events are stored again), bull's (a separate worker process
 * role processes them) and the subscriber (a fleet reload reaches every instance).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { Redis } from "ioredis";
import { loadConfig } from "../../server/config/load-config.ts";
import { startService, type Service } from "../../server/main.ts";
import { startEmbeddedRedis, type EmbeddedRedis } from "../../server/redis/embedded-redis.ts";
import { findFreePort } from "../../server/redis/find-free-port.ts";
import { createLogSink } from "../helpers/log-sink.ts";
import { waitForStatus } from "../helpers/process.ts";
import { FIXTURES, TEST_ADMIN_TOKEN, TEST_AUTH_TOKEN, TEST_PUBLIC_URL } from "../helpers/service.ts";
import { uniquePrefix } from "../helpers/redis.ts";
import { traceState } from "../helpers/traces.ts";
import { sendVobiz } from "../helpers/vobiz.ts";

const dir = mkdtempSync(path.join(os.tmpdir(), "switchboard-restart-"));
const sink = createLogSink("warn");
const redisPort = await findFreePort();
const prefix = uniquePrefix(import.meta.url);
let redis: EmbeddedRedis | undefined;
const services: Service[] = [];
after(async () => {
  for (const service of services.reverse()) await service.close();
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const env = (role: string, port: number): Record<string, string> => ({
  PORT: String(port),
  HOST: "127.0.0.1",
  PUBLIC_URL: TEST_PUBLIC_URL,
  REDIS_URL: `redis://127.0.0.1:${redisPort}`,
  REDIS_PREFIX: prefix,
  VOBIZ_AUTH_TOKEN: TEST_AUTH_TOKEN,
  ADMIN_TOKEN: TEST_ADMIN_TOKEN,
  RULES_DIR: path.join(FIXTURES, "rules", "empty"),
  TEMPLATES_DIR: path.resolve(import.meta.dirname, "../../templates"),
  ROLE: role,
  JOB_LOCK_TIMEOUT: "2s",
  LOG_LEVEL: "info",
});

async function until<T>(what: string, attempt: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await attempt().catch(() => undefined);
    if (value !== undefined) return value;
    assert.ok(Date.now() < deadline, `${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function storedEvent(url: string, callUuid: string): Promise<string> {
  return until(`/events stores ${callUuid}`, async () => {
    const response = await sendVobiz(url, "/events", { Event: "Hangup", CallUUID: callUuid });
    return response.status === 200 ? ((await response.json()) as { id: string }).id : undefined;
  });
}

async function processed(id: string): Promise<void> {
  const client = new Redis(`redis://127.0.0.1:${redisPort}`, { maxRetriesPerRequest: 1 });
  try {
    await until(`event ${id} processed by the worker`, async () =>
      (await traceState(client, prefix, id)) === "dispatched" ? true : undefined,
    );
  } finally {
    client.disconnect();
  }
}

const webPort = await findFreePort();
const webUrl = `http://127.0.0.1:${webPort}`;

test("a service started before Redis waits: /ready 503 says so, then it becomes ready when Redis comes", async () => {
  const logs = createLogSink("info");
  const starting = startService(loadConfig(env("web", webPort)), logs.log);
  starting.then((service) => services.push(service)).catch(() => undefined);
  const waiting = await waitForStatus(`${webUrl}/ready`, 503);
  const body = (await waiting.json()) as { status: string; reasons: string[] };
  assert.equal(body.status, "not_ready");
  assert.match(body.reasons.join(" "), /waiting for Redis at redis:\/\/127\.0\.0\.1:\d+/);
  assert.equal((await fetch(`${webUrl}/health`)).status, 200, "the process itself is healthy");
  const refused = await sendVobiz(webUrl, "/events", { Event: "Hangup", CallUUID: "early" }, { retries: 0 });
  assert.equal(refused.status, 503, "nothing can be stored yet");
  assert.equal(refused.headers.get("retry-after"), "5");
  await until("the wait is logged", () =>
    Promise.resolve(
      logs.lines().some((line) => /waiting for Redis/.test(JSON.stringify(line))) ? true : undefined,
    ),
  );

  redis = await startEmbeddedRedis({ dir, log: sink.log, port: redisPort });
  const service = await starting;
  assert.equal(service.url, webUrl, "the app took over the port that answered while waiting");
  assert.equal((await waitForStatus(`${webUrl}/ready`, 200)).status, 200);
  assert.equal((await sendVobiz(webUrl, "/events", { Event: "Hangup", CallUUID: "after" })).status, 200);
});

test("a Redis restart mid-run is survived by the command, bull's and the subscriber connections", async () => {
  assert.ok(redis !== undefined, "the first test started Redis");
  const worker = await startService(loadConfig(env("worker", 0)), createLogSink("warn").log);
  services.push(worker);
  await processed(await storedEvent(webUrl, "before-restart"));

  await redis.stop();
  assert.equal((await waitForStatus(`${webUrl}/ready`, 503)).status, 503);
  redis = await startEmbeddedRedis({ dir, log: sink.log, port: redisPort });

  // the web process stores again, and the worker (blocking client and bull's client) takes the job
  await processed(await storedEvent(webUrl, "after-restart"));
  // both subscribers are back: a fleet reload is answered by both instances
  const report = await until("a fleet reload reaches both instances", async () => {
    const response = await fetch(`${webUrl}/admin/reload`, {
      method: "POST",
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
    });
    const body = (await response.json()) as { instances?: Array<{ errors: unknown[] }> };
    return body.instances?.length === 2 ? body : undefined;
  });
  assert.deepEqual(
    report.instances?.map((instance) => instance.errors),
    [[], []],
  );
});
