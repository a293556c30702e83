/**
 * corkEachTurn (server/redis/cork-turn.ts) against a real Redis: the commands a connection sends during
 * one turn of the event loop reach the socket as one write, and each still gets its own reply or error.
 */
import assert from "node:assert/strict";
import type { Socket } from "node:net";
import { test } from "node:test";
import { Redis } from "ioredis";
import { corkEachTurn } from "../../server/redis/cork-turn.ts";
import { useTestRedis } from "../helpers/redis.ts";

const testRedis = useTestRedis(import.meta.url);
const redis = new Redis(testRedis.url, { connectionName: `${testRedis.prefix}:cork` });
testRedis.onCleanup(async () => {
  await redis.quit();
});
corkEachTurn(redis);
await redis.ping();

/** counts the socket's writes (one per system call: `_write` for one chunk, `_writev` for several) */
function countWrites(stream: Socket): { writes: number; restore(): void } {
  const counter = { writes: 0, restore: () => {} };
  const internals = stream as unknown as Record<"_write" | "_writev", (...args: unknown[]) => unknown>;
  const original = { _write: internals._write, _writev: internals._writev };
  for (const name of ["_write", "_writev"] as const) {
    internals[name] = function (this: Socket, ...args: unknown[]) {
      counter.writes += 1;
      return original[name].apply(this, args);
    };
  }
  counter.restore = () => Object.assign(internals, original);
  return counter;
}

test("the commands of one turn leave in one write, in order, each with its own reply or error", async () => {
  const key = `${testRedis.prefix}:list`;
  const counter = countWrites(redis.stream);
  try {
    const replies = await Promise.all([
      redis.rpush(key, "a"),
      redis.incr(key).catch((error: Error) => error.message), // wrong type: an error of its own
      redis.rpush(key, "b"),
      redis.lrange(key, 0, -1),
    ]);
    assert.deepEqual(replies, [
      1,
      "WRONGTYPE Operation against a key holding the wrong kind of value",
      2,
      ["a", "b"],
    ]);
    assert.equal(counter.writes, 1);

    // a later turn is a write of its own
    assert.equal(await redis.rpush(key, "c"), 3);
    assert.equal(counter.writes, 2);
  } finally {
    counter.restore();
  }
});

test("without it every command is a write of its own (what the test above would see otherwise)", async () => {
  const plain = new Redis(testRedis.url, { connectionName: `${testRedis.prefix}:plain` });
  try {
    await plain.ping();
    const counter = countWrites(plain.stream);
    await Promise.all([plain.ping(), plain.ping(), plain.ping()]);
    assert.equal(counter.writes, 3);
  } finally {
    await plain.quit();
  }
});

test("commands sent before the connection is ready wait for it, then are answered", async () => {
  const late = new Redis(testRedis.url, { lazyConnect: true, connectionName: `${testRedis.prefix}:late` });
  corkEachTurn(late);
  try {
    const replies = await Promise.all([late.ping("one"), late.ping("two")]);
    assert.deepEqual(replies, ["one", "two"]);
  } finally {
    await late.quit();
  }
});
