import assert from "node:assert/strict";
import { test } from "node:test";
import { RetryLater, actionBackoff, jobOptionsFor } from "../../../server/queue/action-job-options.ts";

test("a forward's retry becomes Bull attempts and the Switchboard backoff; vobiz has its own", () => {
  const options = jobOptionsFor({
    type: "forward",
    url: "https://x",
    retry: { attempts: 6, backoff: "fixed", delay: "3s" },
  });
  assert.equal(options.attempts, 6);
  assert.deepEqual(options.backoff, {
    type: "switchboard",
    options: { kind: "fixed", delayMs: 3000, maxDelayMs: 600_000 },
  });
  assert.equal(jobOptionsFor({ type: "forward", url: "https://x" }).attempts, 4);
  // a vobiz job may run again only after a request that provably did not reach Vobiz (the ledger's call)
  assert.equal(jobOptionsFor({ type: "vobiz", vobiz: "hangup" }).attempts, 5);
  assert.equal(jobOptionsFor({ type: "respond", xml: "<Response/>" }).attempts, 1);
});

test("fixed waits the delay; exponential doubles with jitter and stops at max_delay", () => {
  const fixed = { kind: "fixed" as const, delayMs: 2000, maxDelayMs: 60_000 };
  assert.equal(actionBackoff(3, new RetryLater("x", 3), fixed), 2000);
  const exponential = { kind: "exponential" as const, delayMs: 1000, maxDelayMs: 5000 };
  for (let i = 0; i < 50; i += 1) {
    const second = actionBackoff(2, new RetryLater("x", 2), exponential);
    assert.ok(second >= 1000 && second <= 2000, `attempt 2: ${second}`);
    const tenth = actionBackoff(10, new RetryLater("x", 10), exponential);
    assert.ok(tenth >= 2500 && tenth <= 5000, `capped: ${tenth}`);
  }
});

test("a Retry-After longer than the backoff wins; a breaker deferral waits exactly its time", () => {
  const fixed = { kind: "fixed" as const, delayMs: 100, maxDelayMs: 60_000 };
  assert.equal(actionBackoff(1, new RetryLater("429", 1, 30_000), fixed), 30_000);
  assert.equal(actionBackoff(4, new RetryLater("open", 2, 1234, true), fixed), 1234);
  assert.equal(actionBackoff(1, new Error("plain"), fixed), 100);
});
