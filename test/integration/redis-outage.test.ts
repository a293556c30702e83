import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { Redis } from "ioredis";
import { startEmbeddedRedis, type EmbeddedRedis } from "../../server/redis/embedded-redis.ts";
import { createLogSink } from "../helpers/log-sink.ts";
import { startTestService } from "../helpers/service.ts";
import { sendVobiz } from "../helpers/vobiz.ts";

const dir = mkdtempSync(path.join(os.tmpdir(), "switchboard-outage-"));
const sink = createLogSink("warn");
let redis: EmbeddedRedis = await startEmbeddedRedis({ dir, log: sink.log });
const port = Number(new URL(redis.url).port);
const service = await startTestService(import.meta.url, { REDIS_URL: redis.url });
after(async () => {
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

const fields = (n: number): Record<string, string> => ({ Event: "Hangup", CallUUID: `outage-${n}` });

test("Redis unreachable: /events answers 503 QUEUE_UNAVAILABLE with Retry-After, never 200; then recovers", async () => {
  assert.equal((await sendVobiz(service.url, "/events", fields(1))).status, 200);
  await redis.stop();
  const down = await sendVobiz(service.url, "/events", fields(2), { retries: 0 });
  assert.equal(down.status, 503);
  assert.equal(down.headers.get("retry-after"), "5");
  assert.equal(((await down.json()) as { code: string }).code, "QUEUE_UNAVAILABLE");
  const ready = await fetch(`${service.url}/ready`);
  assert.equal(ready.status, 503);
  assert.match(JSON.stringify(await ready.json()), /redis/);

  redis = await startEmbeddedRedis({ dir, log: sink.log, port });
  const deadline = Date.now() + 15_000;
  let status = 0;
  while (Date.now() < deadline && status !== 200) {
    status = (await sendVobiz(service.url, "/events", fields(2))).status;
    if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.equal(status, 200, "the retried delivery is stored once Redis is back");
  const client = new Redis(redis.url);
  try {
    assert.equal(
      await client.zcard(`${service.prefix}:index:events`),
      2,
      "both events survived the restart (AOF)",
    );
  } finally {
    client.disconnect();
  }
});

test("a delivery whose store fails leaves no de-duplication key behind, so the retry is stored", async () => {
  const client = new Redis(redis.url);
  try {
    // a wrong-type key where the event index is kept makes its ZADD fail inside the store script, after
    // the job and the trace were written and before the de-duplication record
    const indexKey = `${service.prefix}:index:events`;
    const saved = await client.zrange(indexKey, 0, -1, "WITHSCORES");
    await client.del(indexKey);
    await client.hset(indexKey, "broken", "1");
    const failed = await sendVobiz(service.url, "/events", fields(3), { retries: 0 });
    assert.equal(failed.status, 503, "a failed store is never acknowledged");
    await client.del(indexKey);
    for (let i = 0; i < saved.length; i += 2) {
      await client.zadd(indexKey, saved[i + 1] ?? "0", saved[i] ?? "");
    }
    const retried = await sendVobiz(service.url, "/events", fields(3));
    assert.equal(retried.status, 200);
    assert.equal(
      ((await retried.json()) as { duplicate?: boolean }).duplicate,
      undefined,
      "the retry is stored, not a duplicate",
    );
  } finally {
    client.disconnect();
  }
});
