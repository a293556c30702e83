import assert from "node:assert/strict";
import { test } from "node:test";
import { Redis } from "ioredis";
import { createBreakers } from "../../server/actions/circuit-breaker.ts";
import { useTestRedis } from "../helpers/redis.ts";

const { url, prefix, onCleanup } = useTestRedis(import.meta.url);
const redis = new Redis(url, { connectionName: `${prefix}:test` });
onCleanup(async () => void (await redis.quit()));
const breakers = createBreakers(redis, prefix, { threshold: 10, baseMs: 200, maxMs: 800 });
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

test("ten consecutive failures open a host's breaker; others stay closed; a success resets the count", async () => {
  for (let i = 0; i < 9; i += 1) assert.equal(await breakers.record("a.example", false), false);
  await breakers.record("a.example", true);
  for (let i = 0; i < 9; i += 1) await breakers.record("a.example", false);
  assert.equal(await breakers.check("a.example"), 0, "9 failures after a success: still closed");
  assert.equal(await breakers.record("a.example", false), true, "the 10th opens it");
  const wait = await breakers.check("a.example");
  assert.ok(wait > 0 && wait <= 200, `waits the cool-down (${wait} ms)`);
  assert.equal(await breakers.check("b.example"), 0);
  assert.deepEqual(await breakers.open(), ["a.example"]);
});

test("after the cool-down one probe goes through; its failure re-opens for longer, its success closes", async () => {
  await sleep(220);
  assert.equal(await breakers.check("a.example"), 0, "the probe may go");
  assert.ok((await breakers.check("a.example")) > 0, "others keep waiting while the probe runs");
  assert.equal(await breakers.record("a.example", false), true, "the probe failed: open again");
  const longer = await breakers.check("a.example");
  assert.ok(longer > 200 && longer <= 400, `the cool-down doubled (${longer} ms)`);
  await sleep(longer + 20);
  assert.equal(await breakers.check("a.example"), 0);
  await breakers.record("a.example", true);
  assert.equal(await breakers.check("a.example"), 0);
  assert.deepEqual(await breakers.open(), []);
});
