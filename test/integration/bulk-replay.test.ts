/**
 * Bulk replay (issue 17) against a real service, Redis and HTTP destination: 1,000 recorded events
 * replayed by filter through the replay queue while live events keep arriving; none of either is lost,
 * each replay delivered under its own idempotency key, and the progress is readable until it completes.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Redis } from "ioredis";
import { parseTrace, replaysOf } from "../../server/events/trace-format.ts";
import { startHttpSink, type CapturedRequest } from "../helpers/http-sink.ts";
import { scratchRuleset } from "../helpers/rules.ts";
import { TEST_ADMIN_TOKEN, startTestService } from "../helpers/service.ts";
import { sendVobiz } from "../helpers/vobiz.ts";

const sink = await startHttpSink();
const scenario = (name: string): unknown => ({ "==": [{ var: "Scenario" }, name] });
const disk = await scratchRuleset({
  rules: {
    "bulk.json": {
      rules: ["bulk", "live"].map((name) => ({
        id: name,
        when: scenario(name),
        actions: [{ type: "forward", url: `${sink.url}/${name}?c=<<CallUUID>>` }],
      })),
    },
  },
});
const service = await startTestService(import.meta.url, {
  ROLE: "all",
  RULES_DIR: disk.rulesDir,
  TEMPLATES_DIR: disk.templatesDir,
  REPLAY_RATE: "1000",
  LOG_LEVEL: "info",
});
const redis = new Redis(service.redisUrl);
service.testRedis.onCleanup(() => {
  redis.disconnect();
  return Promise.resolve();
});

let calls = 0;
async function send(name: string): Promise<string> {
  const response = await sendVobiz(service.url, "/events", {
    Event: "Hangup",
    Scenario: name,
    CallUUID: `${name}-${process.pid}-${(calls += 1)}`,
  });
  assert.equal(response.status, 200);
  return ((await response.json()) as { id: string }).id;
}
const requestsTo = (path: string): CapturedRequest[] => sink.requests.filter((r) => r.url.startsWith(path));
async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + 200_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
const admin = (path: string, body?: unknown): Promise<Response> =>
  fetch(`${service.url}${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

test("bulk replay of 1,000 events while live traffic runs: none of either is lost", async () => {
  const since = new Date().toISOString();
  const originals: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < 1000) {
        next += 1;
        originals.push(await send("bulk"));
      }
    }),
  );
  const filter = { since, rule: "bulk" };
  const dry = (await (await admin("/admin/replays", { ...filter, dry_run: true })).json()) as {
    count: number;
  };
  assert.equal(dry.count, 1000, "the dry run counts what would run");
  const started = await admin("/admin/replays", filter);
  assert.equal(started.status, 202);
  const bulk = (await started.json()) as { id: string; total: number; state: string };
  assert.deepEqual([bulk.total, bulk.state], [1000, "running"]);
  // live traffic while the replays run
  const live: string[] = [];
  for (let i = 0; i < 200; i += 1) live.push(await send("live"));
  const progress = await until("the bulk replay to complete", async () => {
    const body = (await (await admin(`/admin/replays/${bulk.id}`)).json()) as {
      state: string;
      done: number;
      failed: number;
      total: number;
    };
    return body.state === "completed" ? body : undefined;
  });
  assert.deepEqual([progress.done, progress.failed, progress.total], [1000, 0, 1000]);
  await until(
    "every original, replay and live event to be delivered",
    () => requestsTo("/bulk").length >= 2000 && requestsTo("/live").length >= 200,
  );
  const keys = (path: string): Set<string> =>
    new Set(requestsTo(path).map((r) => String(r.headers["idempotency-key"])));
  assert.deepEqual(
    [...keys("/live")].sort(),
    live.map((id) => `${id}:live:0`).sort(),
    "every live event delivered",
  );
  const delivered = keys("/bulk");
  assert.equal(delivered.size, 2000, "each original and each replay delivered, each under its own key");
  const traces = await redis.mget(...originals.map((id) => `${service.prefix}:trace:${id}`));
  for (const [index, text] of traces.entries()) {
    const replays = replaysOf(parseTrace(text) ?? {});
    assert.equal(replays.length, 1, `${originals[index]} replayed once`);
    assert.ok(delivered.has(`${originals[index]}:bulk:0`));
    assert.ok(delivered.has(`${replays[0]}:bulk:0`));
  }
  assert.equal((await admin("/admin/replays/rpl_nothing")).status, 404);
});
