/**
 * ROLE=all runs a forward decided in the request path at once, in the process that received the event,
 * without the queue taking the job: stored taken (active, locked) by the claim script, completed (and
 * removed: the trace is its history) through bull's Job API. Still a bull job in every way that matters:
 * its lock is renewed while it runs, a paused queue holds it, a process killed mid-delivery loses nothing
 * (another takes it over once the lock runs out), shutdown waits for it, and ACTION_CONCURRENCY caps
 * these deliveries and the queue's together.
 */
import assert from "node:assert/strict";
import path from "node:path";
import { test } from "node:test";
import Bull from "bull";
import { Redis } from "ioredis";
import { findFreePort } from "../../server/redis/find-free-port.ts";
import { jobOptionsFor } from "../../server/queue/action-job-options.ts";
import { startHttpSink, type CapturedRequest } from "../helpers/http-sink.ts";
import { startMainProcess, waitForStatus } from "../helpers/process.ts";
import { scratchRuleset } from "../helpers/rules.ts";
import { TEST_ADMIN_TOKEN, TEST_AUTH_TOKEN, TEST_PUBLIC_URL, startTestService } from "../helpers/service.ts";
import { traceAction } from "../helpers/traces.ts";
import { sendVobiz } from "../helpers/vobiz.ts";

let hangs = 0;
const sink = await startHttpSink((request) => {
  const where = request.url.split("?")[0] ?? "";
  if (where === "/slow") return { delayMs: 2500 };
  if (where === "/busy") return { delayMs: 400 };
  if (where === "/closing") return { delayMs: 3000 };
  if (where === "/capped") return { delayMs: 300 };
  // the first request to /hang is never answered in time: its sender dies while waiting
  if (where === "/hang" && (hangs += 1) === 1) return { delayMs: 60_000 };
  return {};
});
const scenario = (name: string): unknown => ({ "==": [{ var: "Scenario" }, name] });
const forwardTo = (name: string): unknown => ({
  id: name,
  when: scenario(name),
  actions: [{ type: "forward", url: `${sink.url}/${name}?caller=<<caller_e164>>`, timeout: "10s" }],
});
const disk = await scratchRuleset({
  rules: {
    "forwards.json": {
      rules: ["plain", "slow", "busy", "paused", "hang", "closing", "capped"].map(forwardTo),
    },
  },
});
const env = {
  ROLE: "all",
  RULES_DIR: disk.rulesDir,
  TEMPLATES_DIR: disk.templatesDir,
  JOB_LOCK_TIMEOUT: "1s",
  ACTION_CONCURRENCY: "2",
};
const service = await startTestService(import.meta.url, env);
const redis = new Redis(service.redisUrl);
service.testRedis.onCleanup(() => {
  redis.disconnect();
  return Promise.resolve();
});
const key = (name: string): string => `${service.prefix}:${name}`;

async function send(name: string, suffix = ""): Promise<string> {
  const response = await sendVobiz(service.url, "/events", {
    Event: "Hangup",
    CallUUID: `${name}${suffix}-${process.pid}`,
    From: "919876543210",
    Scenario: name,
  });
  assert.equal(response.status, 200);
  return ((await response.json()) as { id: string }).id;
}

async function actionState(id: string, rule: string, timeoutMs = 15_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await traceAction(redis, service.prefix, id, rule);
    if (state?.state === "delivered") return state;
    assert.ok(Date.now() < deadline, `${id} was not delivered (last: ${JSON.stringify(state)})`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function runs(started: "request" | "queue"): Promise<number> {
  const text = await (await fetch(`${service.url}/metrics`)).text();
  const line = text
    .split("\n")
    .find((l) => l.startsWith(`switchboard_action_runs_total{started="${started}"}`));
  return Number(line?.split(" ")[1] ?? 0);
}

const requestsTo = (name: string): CapturedRequest[] =>
  sink.requests.filter((request) => request.url.startsWith(`/${name}?`));

test("delivered at once by the process that received it: completed with its trace, never taken from the queue", async () => {
  const [fromRequest, fromQueue] = [await runs("request"), await runs("queue")];
  const id = await send("plain");
  const job = `${id}:plain:0`;
  const state = await actionState(id, "plain");
  assert.equal(state.status, 200);
  assert.equal(state.attempt, 1);
  const [attempt] = state.attempts as Array<{ status?: number; request?: string }>;
  assert.equal(attempt?.status, 200);
  assert.equal(attempt?.request, `POST ${sink.url}/plain`);
  assert.equal(requestsTo("plain")[0]?.url, "/plain?caller=%2B919876543210");
  assert.equal(requestsTo("plain")[0]?.headers["idempotency-key"], job);
  // the completed job is removed (the trace is its history); nothing active or waiting
  assert.equal(await redis.exists(key(`actions:${job}`)), 0);
  assert.equal(await redis.zscore(key("actions:completed"), job), null);
  assert.deepEqual(await redis.lrange(key("actions:active"), 0, -1), []);
  assert.deepEqual(await redis.lrange(key("actions:wait"), 0, -1), []);
  assert.equal(await redis.exists(key(`actions:${job}:lock`)), 0);
  assert.equal(await runs("request"), fromRequest + 1);
  assert.equal(await runs("queue"), fromQueue);
});

test("a job taken at once is stored as bull stores a job it adds and takes for a worker", async () => {
  const id = await send("slow", "-stored");
  const jobId = `${id}:slow:0`;
  // read it while it is being delivered (the destination answers after 2.5 s)
  await sink.waitFor(requestsTo("plain").length + requestsTo("slow").length + 1);
  const ours = await redis.hgetall(key(`actions:${jobId}`));
  assert.equal((await redis.get(key(`actions:${jobId}:lock`))) !== null, true, "locked");
  assert.ok((await redis.lrange(key("actions:active"), 0, -1)).includes(jobId), "in the active list");
  // the same job through bull's own add and take, on a queue of its own (no worker)
  const queue = new Bull("actions", { prefix: key("bull-made"), redis: service.redisUrl });
  try {
    const options = jobOptionsFor({ type: "forward", url: "http://x/" } as never);
    await queue.add(JSON.parse(ours.data ?? "{}") as object, { ...options, jobId });
    const taken = await queue.getNextJob();
    assert.equal(taken?.id, jobId);
    const theirs = await redis.hgetall(key(`bull-made:actions:${jobId}`));
    assert.deepEqual(Object.keys(ours).sort(), Object.keys(theirs).sort());
    for (const field of ["name", "data", "delay", "priority"])
      assert.equal(ours[field], theirs[field], field);
    const opts = (job: Record<string, string>): unknown => ({
      ...JSON.parse(job.opts ?? "{}"),
      timestamp: 0,
    });
    assert.deepEqual(opts(ours), opts(theirs));
    for (const field of ["timestamp", "processedOn"]) {
      assert.ok(Number(ours[field]) > 0 && Number(theirs[field]) > 0, field);
    }
    await taken.moveToCompleted(undefined, true, true);
  } finally {
    await queue.close();
  }
  await actionState(id, "slow");
});

test("a delivery slower than the job lock keeps its lock: the queue never takes it over, one request", async () => {
  const fromQueue = await runs("queue");
  const id = await send("slow");
  await sink.waitFor(requestsTo("plain").length + requestsTo("slow").length + 1);
  await actionState(id, "slow");
  // the stalled-job check runs every second: long enough for a lock that was not renewed to be found
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const mine = requestsTo("slow").filter((r) => r.body.includes(`CallUUID=slow-${process.pid}&`));
  assert.equal(mine.length, 1, "delivered once");
  assert.equal(await runs("queue"), fromQueue, "no worker ran it again");
});

test("beyond ACTION_CONCURRENCY deliveries wait in the queue, and every one arrives", async () => {
  const [fromRequest, fromQueue] = [await runs("request"), await runs("queue")];
  const ids = await Promise.all([1, 2, 3, 4, 5].map((n) => send("busy", `-${n}`)));
  for (const id of ids) await actionState(id, "busy");
  assert.equal(requestsTo("busy").length, 5);
  const inline = (await runs("request")) - fromRequest;
  const queued = (await runs("queue")) - fromQueue;
  assert.equal(inline + queued, 5);
  assert.ok(inline >= 1 && inline <= 2, `at most 2 at once from the request path (${inline})`);
  assert.ok(queued >= 3, `the rest from the queue (${queued})`);
});

test("ACTION_CONCURRENCY caps deliveries taken at claim time and from the queue together", async () => {
  const [fromRequest, fromQueue] = [await runs("request"), await runs("queue")];
  const before = requestsTo("capped").length;
  // a first wave takes the slots at claim time; the next ones queue; while queued ones run, more arrive
  const ids = await Promise.all([1, 2, 3].map((n) => send("capped", `-a${n}`)));
  await sink.waitFor(sink.requests.length + 1);
  ids.push(...(await Promise.all([4, 5, 6, 7].map((n) => send("capped", `-b${n}`)))));
  for (const id of ids) await actionState(id, "capped");
  // every delivery arrived; on a stalled machine the 1 s job lock may run out and one arrive twice, with
  // the same Idempotency-Key (at least once): count deliveries by key
  const keys = new Set(
    requestsTo("capped")
      .slice(before)
      .map((r) => r.headers["idempotency-key"]),
  );
  assert.equal(keys.size, 7);
  const inline = (await runs("request")) - fromRequest;
  const queued = (await runs("queue")) - fromQueue;
  assert.ok(inline + queued >= 7, `runs: ${inline} at once, ${queued} from the queue`);
  assert.ok(inline >= 1 && queued >= 1, `both kinds ran (${inline} at once, ${queued} from the queue)`);
  assert.ok(sink.maxInFlight <= 2, `at most 2 deliveries at once, seen ${sink.maxInFlight}`);
});

test("a paused actions queue holds deliveries from the request path too, until it is resumed", async () => {
  const queue = new Bull("actions", { prefix: service.prefix, redis: service.redisUrl });
  try {
    await queue.pause();
    const id = await send("paused");
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(requestsTo("paused").length, 0, "nothing sent while paused");
    assert.equal(await redis.llen(key("actions:paused")), 1);
    await queue.resume();
    await actionState(id, "paused");
    assert.equal(requestsTo("paused").length, 1);
  } finally {
    await queue.close();
  }
});

test("a process killed mid-delivery loses nothing: another takes the job over once its lock runs out", async () => {
  const port = await findFreePort();
  const other = startMainProcess({
    ...env,
    PORT: String(port),
    HOST: "127.0.0.1",
    PUBLIC_URL: TEST_PUBLIC_URL,
    REDIS_URL: service.redisUrl,
    REDIS_PREFIX: service.prefix,
    VOBIZ_AUTH_TOKEN: TEST_AUTH_TOKEN,
    ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    DATA_DIR: path.join(disk.dir, "other-data"),
    LOG_LEVEL: "warn",
  });
  try {
    await waitForStatus(`http://127.0.0.1:${port}/ready`, 200);
    const response = await sendVobiz(`http://127.0.0.1:${port}`, "/events", {
      Event: "Hangup",
      CallUUID: `hang-${process.pid}`,
      From: "919876543210",
      Scenario: "hang",
    });
    assert.equal(response.status, 200);
    const { id } = (await response.json()) as { id: string };
    const deadline = Date.now() + 15_000;
    while (requestsTo("hang").length === 0) {
      assert.ok(Date.now() < deadline, `the other process never sent it: ${other.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    other.child.kill("SIGKILL");
    await other.exited;
    // this file's service (same prefix) finds the job stalled and delivers it
    const state = await actionState(id, "hang", 30_000);
    assert.equal(state.status, 200);
    const [first, second] = requestsTo("hang");
    assert.equal(requestsTo("hang").length, 2);
    assert.equal(second?.headers["idempotency-key"], first?.headers["idempotency-key"]);
  } finally {
    if (other.child.exitCode === null && other.child.signalCode === null) other.child.kill("SIGKILL");
  }
});

test("shutdown waits for the deliveries it started", async () => {
  const second = await startTestService(import.meta.url, env, service.testRedis);
  const response = await sendVobiz(second.url, "/events", {
    Event: "Hangup",
    CallUUID: `closing-${process.pid}`,
    From: "919876543210",
    Scenario: "closing",
  });
  const { id } = (await response.json()) as { id: string };
  // the destination answers after 3 s; close at once
  await second.close();
  assert.equal(requestsTo("closing").length, 1);
  assert.equal((await traceAction(redis, service.prefix, id, "closing"))?.state, "delivered");
});
