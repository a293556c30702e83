/**
 * The at-most-once ledger and the fleet-wide limits, on a real Redis: of runs racing for one action only
 * one may send; an entry left `sending` is never claimed again except in a new round (an operator's
 * retry); `done` is final; the per-number cap counts each entry once; VOBIZ_CPS is a token bucket.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Redis } from "ioredis";
import { createVobizLedger } from "../../server/actions/vobiz-ledger.ts";
import { useTestRedis } from "../helpers/redis.ts";

const { url, prefix, onCleanup } = useTestRedis(import.meta.url);
const redis = new Redis(url, { connectionName: `${prefix}:test` });
onCleanup(async () => void (await redis.quit()));
const ledger = createVobizLedger(redis, prefix, 60_000);

test("of two runs racing for one action, only one marks it sending", async () => {
  const key = ledger.key("evt_1", "r", 0);
  assert.equal(await ledger.claim(key, "a", 0), "claimed");
  assert.equal(await ledger.claim(key, "b", 0), "taken_over", "a pending entry is taken over");
  assert.equal(await ledger.sending(key, "a"), false, "the first run lost it");
  assert.equal(await ledger.sending(key, "b"), true);
  assert.equal(await ledger.sending(key, "b"), false, "once");
  assert.equal(await ledger.claim(key, "c", 0), "sending", "a later run sees it was being sent");
  assert.ok((await redis.pttl(key)) > 0, "kept for the retention, not forever");
});

test("done is final; unknown and failed may be claimed again only in a new round", async () => {
  const done = ledger.key("evt_2", "r", 0);
  await ledger.claim(done, "a", 0);
  await ledger.sending(done, "a");
  assert.equal(await ledger.finish(done, "x", ["sending"], { state: "done" }), false, "only by its owner");
  assert.equal(await ledger.finish(done, "a", ["sending"], { state: "done", request_uuid: "u-1" }), true);
  assert.equal(await ledger.claim(done, "b", 5), "done");
  assert.equal((await ledger.get(done))?.request_uuid, "u-1");

  const lost = ledger.key("evt_3", "r", 0);
  await ledger.claim(lost, "a", 0);
  await ledger.sending(lost, "a");
  assert.equal(await ledger.markUnknown(lost, { unknownAt: 1 }), true);
  assert.equal(await ledger.claim(lost, "b", 0), "unknown", "not on its own");
  assert.equal(await ledger.claim(lost, "b", 1), "claimed", "an operator's retry is a new round");
  assert.equal(await ledger.claim(lost, "c", 1), "taken_over");
});

test("a released entry is claimed again without being counted as taken over", async () => {
  const key = ledger.key("evt_4", "r", 0);
  await ledger.claim(key, "a", 0);
  assert.equal(await ledger.release(key, "a"), true);
  assert.equal(await ledger.claim(key, "b", 0), "claimed");
});

test("the per-number cap counts each ledger entry once", async () => {
  const cap = (member: string): Promise<{ allowed: boolean; count: number }> =>
    ledger.withinCap("r", "919800000000", member, 600_000, 2);
  assert.equal((await cap("e1")).allowed, true);
  assert.equal((await cap("e1")).allowed, true, "the same entry again (a retry) is not counted twice");
  assert.equal((await cap("e2")).allowed, true);
  assert.deepEqual(await cap("e3"), { allowed: false, count: 2 });
  assert.equal(
    (await ledger.withinCap("other-rule", "919800000000", "e3", 600_000, 2)).allowed,
    true,
    "per rule",
  );
});

test("VOBIZ_CPS: a token bucket shared through Redis; past the rate, a make_call waits for a token", async () => {
  // sent together on one connection, they reach Redis within a token's time (1 s at 1/s)
  const waits = await Promise.all([ledger.takeToken(1), ledger.takeToken(1), ledger.takeToken(1)]);
  assert.equal(waits[0], 0);
  assert.ok(waits[1] > 0 && waits[2] > 0, `the others wait for a token: ${waits.join(", ")}`);
});
