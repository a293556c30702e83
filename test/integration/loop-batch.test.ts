/**
 * loopBatched (server/redis/loop-batch.ts) against a real Redis: calls made in one turn of the event loop
 * leave as one pipeline, and each call still gets its own reply or its own error.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Redis } from "ioredis";
import { loopBatched } from "../../server/redis/loop-batch.ts";
import { useTestRedis } from "../helpers/redis.ts";

const testRedis = useTestRedis(import.meta.url);
const redis = new Redis(testRedis.url, { connectionName: `${testRedis.prefix}:loop-batch` });
testRedis.onCleanup(async () => {
  await redis.quit();
});
// appends ARGV[1] to a list and answers its new length; refuses "bad"
redis.defineCommand("testAppend", {
  numberOfKeys: 1,
  lua: `if ARGV[1] == "bad" then return redis.error_reply("refused " .. ARGV[1]) end
return redis.call("RPUSH", KEYS[1], ARGV[1])`,
});

test("calls of one turn go out as one pipeline, in order, each with its own reply or error", async () => {
  const key = `${testRedis.prefix}:list`;
  const append = loopBatched<number>(redis, "testAppend");
  const pipelines: number[] = [];
  const original = redis.pipeline.bind(redis);
  redis.pipeline = (...args: Parameters<Redis["pipeline"]>) => {
    pipelines.push(Date.now());
    return original(...args);
  };
  try {
    const calls = ["a", "bad", "b", "c"].map((value) =>
      append(key, value).then(
        (length) => ({ length }),
        (error: unknown) => ({ error: (error as Error).message }),
      ),
    );
    const results = await Promise.all(calls);
    assert.deepEqual(results, [{ length: 1 }, { error: "refused bad" }, { length: 2 }, { length: 3 }]);
    assert.equal(pipelines.length, 1, "one pipeline for the turn");
    assert.deepEqual(await redis.lrange(key, 0, -1), ["a", "b", "c"]);

    // a later turn starts a new pipeline
    assert.equal(await append(key, "d"), 4);
    assert.equal(pipelines.length, 2);
  } finally {
    redis.pipeline = original;
  }
});

test("a connection that is gone rejects every call of the turn", async () => {
  const gone = new Redis(testRedis.url, { lazyConnect: true, enableOfflineQueue: false });
  gone.defineCommand("testAppend", { numberOfKeys: 1, lua: `return 1` });
  const append = loopBatched<number>(gone, "testAppend");
  const results = await Promise.allSettled([append("k", "x"), append("k", "y")]);
  assert.deepEqual(
    results.map((result) => result.status),
    ["rejected", "rejected"],
  );
  gone.disconnect();
});
