/**
 * Forward delivery against real HTTP servers on 127.0.0.1 (SPEC §4.2): retries with one Idempotency-Key,
 * fallback URLs, dead letters and their redrive, timeouts, permanent 4xx, hostile payloads, Standard
 * Webhooks signatures, secrets that never reach Redis, and a dead destination that does not hold up others.
 */
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { test } from "node:test";
import { Redis } from "ioredis";
import { Webhook } from "standardwebhooks";
import { createDeadLetters } from "../../server/actions/dead-letters.ts";
import { startHttpSink, type CapturedRequest } from "../helpers/http-sink.ts";
import { scratchRuleset } from "../helpers/rules.ts";
import { TEST_ADMIN_TOKEN, startTestService } from "../helpers/service.ts";
import { traceAction } from "../helpers/traces.ts";
import { sendVobiz } from "../helpers/vobiz.ts";

const SIGNING = `whsec_${Buffer.from("a-test-signing-key-of-32-bytes!!").toString("base64")}`;
const CRM_TOKEN = "crm-token-never-stored-7f3a";
let deadRecovers = false;
const sink = await startHttpSink((request, n) => {
  const path = request.url.split("?")[0] ?? "";
  if (path === "/flaky")
    return { status: sink.requests.filter((r) => r.url.startsWith("/flaky")).length <= 2 ? 500 : 200 };
  if (path === "/dead") return { status: deadRecovers ? 200 : 503 };
  if (path === "/fallback-dead") return { status: 500 };
  if (path === "/bad-request") return { status: 400 };
  if (path === "/slow") return { delayMs: 1500 };
  return { status: n > 0 ? 200 : 500 };
});
// a port with nothing listening: connections are refused
const closedPort = await new Promise<number>((resolve) => {
  const server = createServer().listen(0, "127.0.0.1", () => {
    const { port } = server.address() as { port: number };
    server.close(() => resolve(port));
  });
});

const fast = { attempts: 3, backoff: "fixed", delay: "50ms" };
const scenario = (name: string): unknown => ({ "==": [{ var: "Scenario" }, name] });
const disk = await scratchRuleset({
  rules: {
    "forwards.json": {
      rules: [
        {
          id: "flaky",
          when: scenario("flaky"),
          actions: [
            { type: "forward", url: `${sink.url}/flaky`, body: "json", retry: { ...fast, attempts: 4 } },
          ],
        },
        {
          id: "dead",
          when: scenario("dead"),
          actions: [
            {
              type: "forward",
              url: `${sink.url}/dead`,
              fallback_url: `${sink.url}/fallback-dead`,
              retry: { ...fast, attempts: 2 },
            },
          ],
        },
        {
          id: "dead-with-fallback",
          when: scenario("fallback"),
          actions: [
            {
              type: "forward",
              url: `${sink.url}/dead`,
              fallback_url: `${sink.url}/fallback-ok?id=<<CallUUID>>`,
              retry: { ...fast, attempts: 2 },
            },
          ],
        },
        {
          id: "bad-request",
          when: scenario("400"),
          actions: [{ type: "forward", url: `${sink.url}/bad-request`, retry: fast }],
        },
        {
          id: "slow",
          when: scenario("slow"),
          actions: [
            { type: "forward", url: `${sink.url}/slow`, timeout: "200ms", retry: { ...fast, attempts: 1 } },
          ],
        },
        {
          id: "hostile",
          when: scenario("hostile"),
          actions: [
            {
              type: "forward",
              url: `${sink.url}/hostile/<<From>>?caller=<<caller>>&n=1`,
              body: {
                inline: '{"from": "<<From>>", "all": <<Note | dump>>}',
                content_type: "application/json",
              },
              headers: { "X-Caller": "<<From>>", Authorization: "Bearer <<secrets.CRM_TOKEN>>" },
            },
          ],
        },
        {
          id: "down",
          when: scenario("down"),
          actions: [
            { type: "forward", url: `http://127.0.0.1:${closedPort}/x`, retry: { ...fast, attempts: 1 } },
          ],
        },
        {
          id: "healthy",
          when: scenario("down"),
          actions: [{ type: "forward", url: `${sink.url}/healthy?id=<<CallUUID>>`, body: "json" }],
        },
      ],
    },
  },
});
const service = await startTestService(import.meta.url, {
  RULES_DIR: disk.rulesDir,
  TEMPLATES_DIR: disk.templatesDir,
  SECRET_WEBHOOK_SIGNING: SIGNING,
  SECRET_CRM_TOKEN: CRM_TOKEN,
});
const redis = new Redis(service.redisUrl);
test.after(() => redis.quit());

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
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
const actionState = (id: string, rule: string): Promise<Record<string, unknown> | undefined> =>
  traceAction(redis, service.prefix, id, rule);
const settled = (id: string, rule: string, state: string): Promise<Record<string, unknown>> =>
  until(`${rule} to be ${state}`, async () => {
    const current = await actionState(id, rule);
    return current?.state === state ? current : undefined;
  });
const admin = (path: string, init: RequestInit = {}): Promise<Response> =>
  fetch(`${service.url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, "content-type": "application/json" },
  });

test("a flaky destination (two 500s, then 200) gets exactly 3 attempts, all with one Idempotency-Key, signed", async () => {
  const id = await send("flaky");
  await settled(id, "flaky", "delivered");
  const attempts = requestsTo("/flaky");
  assert.equal(attempts.length, 3);
  assert.deepEqual([...new Set(attempts.map((r) => r.headers["idempotency-key"]))], [`${id}:flaky:0`]);
  for (const request of attempts) {
    const headers = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, String(v)]));
    assert.doesNotThrow(
      () => new Webhook(SIGNING).verify(request.body, headers),
      "verifies with the standardwebhooks library",
    );
    assert.equal(headers["webhook-id"], `${id}:flaky:0`);
  }
  const history = ((await actionState(id, "flaky"))?.attempts ?? []) as Array<{
    status: number;
    request: string;
    attempt: string;
  }>;
  assert.deepEqual(
    history.map((h) => h.attempt),
    ["1", "2", "3"],
  );
  assert.deepEqual(
    history.map((h) => h.status),
    [500, 500, 200],
  );
  assert.equal(history[0]?.request, `POST ${sink.url}/flaky`);
});

test("a dead destination: fallback tried, then a dead letter with the whole history, and one call redrives it", async () => {
  const id = await send("dead");
  await settled(id, "dead", "dead_letter");
  assert.equal(requestsTo("/dead").length, 2);
  assert.equal(requestsTo("/fallback-dead").length, 1);
  const list = (await (await admin("/admin/dead-letters")).json()) as {
    items: Array<{ id: string; rule: string; reason: string; attempts: Array<{ status: number }> }>;
    next: string | null;
  };
  const letter = list.items.find((item) => item.id === `${id}:dead:0`);
  assert.ok(letter, "listed in the dead letters");
  assert.deepEqual(
    letter.attempts.map((a) => a.status),
    [503, 503, 500],
  );
  assert.match(letter.reason, /every attempt failed \(2\)/);
  const metrics = await (await fetch(`${service.url}/metrics`)).text();
  assert.match(metrics, /switchboard_dead_letters [1-9]/);

  deadRecovers = true;
  const retried = await admin(`/admin/dead-letters/${encodeURIComponent(letter.id)}/retry`, {
    method: "POST",
  });
  assert.equal(retried.status, 202);
  await until("the redrive to arrive", () => requestsTo("/dead").length === 3 || undefined);
  assert.equal(requestsTo("/dead")[2]?.headers["idempotency-key"], `${id}:dead:0`);
  const redriven = await settled(id, "dead", "delivered");
  assert.deepEqual(
    (redriven.attempts as Array<{ attempt: string; status: number }>).map((a) => [a.attempt, a.status]),
    [
      ["1", 503],
      ["2", 503],
      ["fallback", 500],
      ["1.1", 200],
    ],
    "the trace keeps the first run's attempts and adds the redrive's",
  );
  const after = (await (await admin("/admin/dead-letters")).json()) as { items: Array<{ id: string }> };
  assert.ok(!after.items.some((item) => item.id === letter.id), "no longer a dead letter");
  deadRecovers = false;
  const missing = await admin("/admin/dead-letters/nope/retry", { method: "POST" });
  assert.equal(missing.status, 404);
});

test("when every attempt fails, a working fallback URL receives the delivery", async () => {
  const id = await send("fallback");
  const state = await settled(id, "dead-with-fallback", "delivered");
  assert.equal(state.via, "fallback_url");
  const [received] = requestsTo("/fallback-ok");
  assert.match(received?.url ?? "", /^\/fallback-ok\?id=fallback-/);
});

test("a 400 fails at once: one attempt, no retry", async () => {
  const id = await send("400");
  const state = await settled(id, "bad-request", "dead_letter");
  assert.match(String(state.reason), /refused it \(400\); not retried/);
  assert.equal(requestsTo("/bad-request").length, 1);
});

test("a slow destination times out after the action's timeout", async () => {
  const id = await send("slow");
  await settled(id, "slow", "dead_letter");
  const [attempt] = ((await actionState(id, "slow"))?.attempts ?? []) as Array<{ error: string }>;
  assert.equal(attempt?.error, "timed out after 200 ms");
});

test("hostile payload values cannot reshape the URL, the JSON body or the headers; secrets are sent but never stored", async () => {
  const from = 'x/../../admin?evil=1&n=2#frag"\n}{"injected": true';
  const id = await send("hostile", { From: from, Note: '"}, "evil": {"' });
  await settled(id, "hostile", "delivered");
  const [received] = requestsTo("/hostile/");
  assert.ok(received);
  const url = new URL(received.url, "http://h");
  assert.equal(url.pathname.split("/").length, 3, "one path segment");
  assert.equal(decodeURIComponent(url.pathname.split("/")[2] ?? ""), from);
  assert.deepEqual([...url.searchParams.keys()], ["caller", "n"]);
  assert.equal(url.searchParams.get("caller"), from);
  assert.deepEqual(JSON.parse(received.body), { from, all: '"}, "evil": {"' });
  assert.equal(received.headers["x-caller"], from.replace(/\n/g, " "));
  assert.equal(received.headers.authorization, `Bearer ${CRM_TOKEN}`);

  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${service.prefix}:*`, "COUNT", 1000);
    cursor = next;
    for (const key of keys) {
      const type = await redis.type(key);
      const dump =
        type === "string"
          ? await redis.get(key)
          : type === "hash"
            ? JSON.stringify(await redis.hgetall(key))
            : type === "list"
              ? JSON.stringify(await redis.lrange(key, 0, -1))
              : "";
      assert.ok(!String(dump).includes(CRM_TOKEN), `the secret is in ${key}`);
    }
  } while (cursor !== "0");
  assert.ok(!JSON.stringify(service.logs.lines()).includes(CRM_TOKEN), "the secret is in the logs");
});

test("a destination that is down does not hold up the others", async () => {
  const ids = await Promise.all(Array.from({ length: 12 }, () => send("down")));
  for (const id of ids) await settled(id, "healthy", "delivered");
  assert.equal(requestsTo("/healthy").length, 12);
  for (const id of ids)
    await until(
      "the down forward to give up",
      async () =>
        (await actionState(id, "down"))?.state === "dead_letter" ||
        (await actionState(id, "down"))?.state === "waiting"
          ? true
          : undefined,
      30_000, // twelve events' retries on a loaded machine
    );
  const metrics = await (await fetch(`${service.url}/metrics`)).text();
  assert.match(
    metrics,
    new RegExp(`switchboard_deliveries_total\\{host="127.0.0.1:${closedPort}",outcome="retry"\\} \\d+`),
  );
  assert.match(
    metrics,
    /switchboard_open_circuit_breakers 1/,
    "ten failures in a row opened the host's breaker",
  );
});

test("GET /admin/events lists traces newest first with filters and cursor pages; /admin/events/:id shows every attempt", async () => {
  const id = await send("flaky");
  await settled(id, "flaky", "delivered");
  const one = (await (await admin(`/admin/events/${id}`)).json()) as {
    status: string;
    type: string;
    matches: Array<{ id: string }>;
    actions: Array<{ rule: string; state: string; attempts: Array<{ status: number }> }>;
    payload: Record<string, string>;
  };
  assert.equal(one.status, "ok");
  assert.equal(one.type, "Hangup");
  assert.equal(one.payload.Scenario, "flaky");
  assert.deepEqual(
    one.matches.map((m) => m.id),
    ["flaky"],
  );
  assert.equal(one.actions[0]?.state, "delivered");
  assert.ok((one.actions[0]?.attempts.length ?? 0) >= 1);

  const failed = (await (await admin("/admin/events?status=failed&limit=200")).json()) as {
    items: Array<{ id: string; status: string }>;
  };
  assert.ok(failed.items.length > 0 && failed.items.every((item) => item.status === "failed"));
  const byRule = (await (await admin("/admin/events?rule=bad-request")).json()) as {
    items: Array<{ matches: Array<{ id: string }> }>;
  };
  assert.ok(byRule.items.length === 1 && byRule.items[0]?.matches.some((m) => m.id === "bad-request"));

  const seen: string[] = [];
  let cursor: string | null = "";
  while (cursor !== null) {
    const page = (await (
      await admin(`/admin/events?limit=5${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`)
    ).json()) as {
      items: Array<{ id: string }>;
      next: string | null;
    };
    seen.push(...page.items.map((item) => item.id));
    cursor = page.next;
  }
  assert.equal(new Set(seen).size, seen.length, "no event twice");
  assert.deepEqual(seen, [...seen].sort().reverse(), "newest first");
  assert.equal(seen[0], id);
  assert.equal((await admin("/admin/events/evt_nope")).status, 404);
  assert.equal((await admin("/admin/events?status=weird")).status, 400);
});

test("retrying all dead letters of a rule retries every one of 1,000 (not every other page)", async () => {
  const letters = createDeadLetters(redis, service.prefix);
  const before = requestsTo("/bulk").length;
  for (let i = 0; i < 1000; i += 1) {
    const id = `evt_bulk${String(i).padStart(4, "0")}:bulk:0`;
    await letters.add({
      id,
      eventId: `evt_bulk${i}`,
      rule: "bulk",
      host: "127.0.0.1",
      failedAt: new Date(Date.now() - i).toISOString(),
      reason: "test",
      attempts: [],
      retries: 0,
      job: {
        event: {
          id: `evt_bulk${i}`,
          route: "events",
          method: "POST",
          path: "/events",
          query: {},
          raw: "Event=Hangup",
          contentType: "application/x-www-form-urlencoded",
          receivedAt: new Date().toISOString(),
          verification: { result: "verified" },
        },
        rule: { id: "bulk", description: undefined, file: "bulk.json" },
        actionIndex: 0,
        action: { type: "forward", url: `${sink.url}/bulk` },
        ruleset: { hash: "bulk", commit: null, loadedAt: new Date().toISOString() },
      },
    });
  }
  const response = await admin("/admin/dead-letters/retry", {
    method: "POST",
    body: JSON.stringify({ rule: "bulk" }),
  });
  assert.equal(response.status, 202);
  assert.equal(((await response.json()) as { retried: number }).retried, 1000);
  const left = (await (await admin("/admin/dead-letters?rule=bulk")).json()) as { items: unknown[] };
  assert.deepEqual(left.items, []);
  await until(
    "the 1,000 redrives to arrive",
    () => requestsTo("/bulk").length - before >= 1000 || undefined,
    60_000,
  );
});
