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

test("deliveries in flight when the breaker opens fail without lengthening its cool-down", async () => {
  // 40 deliveries to a host that just went down fail at about the same time: the 10th opens the breaker
  // for the first cool-down; the 30 after it started before it opened and are not probes, so they must
  // not count as re-openings (each used to double the cool-down: 5 s became the 5-minute cap at once)
  const outcomes = await Promise.all(
    Array.from({ length: 40 }, () => breakers.record("burst.example", false)),
  );
  assert.equal(outcomes.filter(Boolean).length, 1, "opened once");
  const wait = await breakers.check("burst.example");
  assert.ok(wait > 0 && wait <= 200, `waits the first cool-down, not a doubled one (${wait} ms)`);
});
