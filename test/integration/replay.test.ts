/**
 * Replay (SPEC §7, issue 17) against a real service, Redis and HTTP destination: one event run again under
 * the current ruleset (new id, linked both ways, its run counted, forwards with their own idempotency
 * keys, vobiz actions only when asked), a dead-lettered forward delivered by a replay once its
 * destination is back, the export's filters, and finding a call by its index (bulk replays:
 * bulk-replay.test.ts).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Redis } from "ioredis";
import { startHttpSink, type CapturedRequest } from "../helpers/http-sink.ts";
import { scratchRuleset } from "../helpers/rules.ts";
import { TEST_ADMIN_TOKEN, startTestService } from "../helpers/service.ts";
import { readTrace } from "../helpers/traces.ts";
import { sendVobiz } from "../helpers/vobiz.ts";

let deadRecovers = false;
const sink = await startHttpSink((request) => {
  const where = request.url.split("?")[0] ?? "";
  if (where === "/dead") return { status: deadRecovers ? 200 : 503 };
  return {};
});
const fast = { attempts: 2, backoff: "fixed", delay: "50ms" };
const scenario = (name: string): unknown => ({ "==": [{ var: "Scenario" }, name] });
const disk = await scratchRuleset({
  rules: {
    "replay.json": {
      rules: [
        {
          id: "crm",
          when: scenario("crm"),
          actions: [
            {
              type: "forward",
              url: `${sink.url}/crm?call=<<CallUUID>>&run=<<meta.attempt>>`,
              retry: fast,
            },
            { type: "vobiz", vobiz: "hangup", params: {} },
          ],
        },
        {
          id: "dead",
          when: scenario("dead"),
          actions: [{ type: "forward", url: `${sink.url}/dead`, retry: fast }],
        },
      ],
    },
  },
});
const service = await startTestService(import.meta.url, {
  ROLE: "all",
  RULES_DIR: disk.rulesDir,
  TEMPLATES_DIR: disk.templatesDir,
});
const redis = new Redis(service.redisUrl);
service.testRedis.onCleanup(() => {
  redis.disconnect();
  return Promise.resolve();
});

let calls = 0;
async function send(name: string, extra: Record<string, string> = {}): Promise<string> {
  const response = await sendVobiz(service.url, "/events", {
    Event: "Hangup",
    Scenario: name,
    CallUUID: `${name}-${process.pid}-${(calls += 1)}`,
    From: "919876543210",
    ...extra,
  });
  assert.equal(response.status, 200);
  return ((await response.json()) as { id: string }).id;
}
const requestsTo = (path: string): CapturedRequest[] => sink.requests.filter((r) => r.url.startsWith(path));
async function until<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
const admin = (path: string, init: RequestInit = {}): Promise<Response> =>
  fetch(`${service.url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, "content-type": "application/json" },
  });
const settled = (id: string, rule: string, state: string): Promise<Record<string, unknown>> =>
  until(`${id} ${rule} to be ${state}`, async () => {
    const action = (await readTrace(redis, service.prefix, id)).actions.find(
      (a) => a.rule === rule && a.type === "forward",
    );
    return action?.state === state ? action : undefined;
  });
const replay = async (id: string, body?: unknown): Promise<Response> =>
  admin(`/admin/events/${id}/replay`, {
    method: "POST",
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
const eventOf = async (id: string): Promise<Record<string, unknown> & { replays: string[] }> =>
  (await (await admin(`/admin/events/${id}`)).json()) as Record<string, unknown> & { replays: string[] };

test("a replay runs the event again as a new event linked both ways, with its own idempotency key; vobiz actions only when asked", async () => {
  const id = await send("crm");
  await settled(id, "crm", "delivered");
  const original = requestsTo("/crm")[0];
  assert.ok(original);
  assert.equal(original.headers["idempotency-key"], `${id}:crm:0`);
  assert.match(
    original.url,
    /run=1$/,
    "the original is run 1 (meta.attempt in the rules' context is the delivery attempt in templates, also 1)",
  );

  const response = await replay(id);
  assert.equal(response.status, 202);
  const replayed = (await response.json()) as { id: string; replayOf: string; attempt: number };
  assert.equal(replayed.replayOf, id);
  assert.equal(replayed.attempt, 2);
  assert.notEqual(replayed.id, id);
  await settled(replayed.id, "crm", "delivered");
  const again = requestsTo("/crm")[1];
  assert.ok(again, "the replay's forward was delivered");
  assert.equal(again.headers["idempotency-key"], `${replayed.id}:crm:0`, "its own idempotency key");
  assert.equal(again.body, original.body, "the same payload");

  const view = await eventOf(replayed.id);
  assert.equal(view.replayOf, id);
  assert.equal(view.attempt, 2);
  const skipped = (view.actions as Array<Record<string, unknown>>).find((a) => a.type === "vobiz");
  assert.deepEqual([skipped?.job, skipped?.note], [null, "skipped: replay"], "vobiz skipped unless asked");
  assert.deepEqual((await eventOf(id)).replays, [replayed.id], "the original lists its replay");

  const withVobiz = (await (await replay(id, { vobiz: true })).json()) as { id: string; attempt: number };
  assert.equal(withVobiz.attempt, 3, "the second replay of the original is its third run");
  await settled(withVobiz.id, "crm", "delivered");
  const asked = ((await eventOf(withVobiz.id)).actions as Array<Record<string, unknown>>).find(
    (a) => a.type === "vobiz",
  );
  assert.equal(asked?.job, `${withVobiz.id}:crm:1`, "asked for: the vobiz action runs as a job again");
  assert.deepEqual((await eventOf(id)).replays, [replayed.id, withVobiz.id]);
});

test("replaying an unknown or expired event answers 404 NOT_FOUND and stores nothing; a bad body 400", async () => {
  const keysBefore = await redis.keys(`${service.prefix}:trace:*`);
  const unknown = await replay("evt_01HZZZZZZZZZZZZZZZZZZZZZZZ");
  assert.equal(unknown.status, 404);
  assert.equal(((await unknown.json()) as { code: string }).code, "NOT_FOUND");
  const id = await send("crm");
  await settled(id, "crm", "delivered");
  await redis.del(`${service.prefix}:trace:${id}`); // as the retention would
  assert.equal((await replay(id)).status, 404);
  assert.equal(
    (await redis.keys(`${service.prefix}:trace:*`)).length,
    keysBefore.length + 0,
    "no trace was made",
  );
  const bad = await replay(id, { vobiz: "yes" });
  assert.equal(bad.status, 400);
  assert.equal(((await bad.json()) as { code: string }).code, "ADMIN_BODY_INVALID");
});

test("a forward that was dead-lettered is delivered by a replay once its destination is back", async () => {
  const id = await send("dead");
  await settled(id, "dead", "dead_letter");
  assert.equal(requestsTo("/dead").length, 2);
  deadRecovers = true;
  const replayed = (await (await replay(id)).json()) as { id: string };
  const delivered = await settled(replayed.id, "dead", "delivered");
  assert.equal(delivered.status, 200);
  const last = requestsTo("/dead").at(-1);
  assert.equal(last?.headers["idempotency-key"], `${replayed.id}:dead:0`);
  assert.equal((await eventOf(replayed.id)).status, "ok");
  assert.equal((await eventOf(id)).status, "failed", "the original's record is kept as it was");
});

test("a call's events are found through the calls' index, replays included", async () => {
  const call = `indexed-${process.pid}`;
  const first = await send("crm", { CallUUID: call });
  const other = await send("crm");
  const second = await send("crm", { CallUUID: call, Event: "StartApp" });
  const replayed = (await (await replay(first)).json()) as { id: string };
  const page = (await (await admin(`/admin/events?CallUUID=${call}`)).json()) as {
    items: Array<{ id: string }>;
    next: string | null;
  };
  assert.deepEqual(
    page.items.map((item) => item.id),
    [replayed.id, second, first],
    "newest first, only this call's",
  );
  assert.ok(!page.items.some((item) => item.id === other));
  const paged = (await (await admin(`/admin/events?CallUUID=${call}&limit=2`)).json()) as {
    items: Array<{ id: string }>;
    next: string | null;
  };
  assert.equal(paged.items.length, 2);
  assert.ok(paged.next);
  const rest = (await (
    await admin(`/admin/events?CallUUID=${call}&limit=2&cursor=${paged.next}`)
  ).json()) as {
    items: Array<{ id: string }>;
    next: string | null;
  };
  assert.deepEqual(
    rest.items.map((item) => item.id),
    [first],
  );
  assert.equal(rest.next, null);
  const typed = (await (await admin(`/admin/events?CallUUID=${call}&type=StartApp`)).json()) as {
    items: Array<{ id: string }>;
  };
  assert.deepEqual(
    typed.items.map((item) => item.id),
    [second],
  );
  const days = await redis.keys(`${service.prefix}:calls:*`);
  assert.ok(days.length >= 1);
  for (const day of days) assert.ok((await redis.pttl(day)) > 0, "the index expires");
});

test("the export streams NDJSON with the raw request and the recorded decision, filtered", async () => {
  const since = new Date().toISOString();
  const call = `export-${process.pid}`;
  const hangup = await send("crm", { CallUUID: call });
  const start = await send("nothing", { CallUUID: call, Event: "StartApp" });
  await settled(hangup, "crm", "delivered");
  const response = await admin(`/admin/events/export?since=${encodeURIComponent(since)}&CallUUID=${call}`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /application\/x-ndjson/);
  const lines = (await response.text())
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.deepEqual(
    lines.map((line) => line.id),
    [start, hangup],
  );
  const [, first] = lines;
  assert.equal(first?.path, "/events");
  assert.equal(first?.method, "POST");
  assert.match(String(first?.raw), new RegExp(`CallUUID=${call}`));
  assert.match(String(first?.raw), /Scenario=crm/);
  assert.ok(typeof first?.receivedAt === "string");
  assert.deepEqual((first?.decision as { matched: string[] }).matched, ["crm"]);
  const byRule = (
    await (await admin(`/admin/events/export?since=${encodeURIComponent(since)}&rule=crm`)).text()
  )
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => (JSON.parse(line) as { id: string }).id);
  assert.ok(byRule.includes(hangup) && !byRule.includes(start), "filtered by rule");
  const byType = (
    await (await admin(`/admin/events/export?since=${encodeURIComponent(since)}&type=startapp`)).text()
  )
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => (JSON.parse(line) as { id: string }).id);
  assert.deepEqual(byType, [start], "filtered by type");
  const until = await (
    await admin(`/admin/events/export?until=${encodeURIComponent(since)}&CallUUID=${call}`)
  ).text();
  assert.equal(until, "", "nothing before the window");
  const bad = await admin("/admin/events/export?since=yesterday");
  assert.equal(bad.status, 400);
});
