import assert from "node:assert/strict";
import { test } from "node:test";
import { Redis } from "ioredis";
import { trimEventIndex } from "../../server/events/ingest.ts";
import { tracePayload, tracedEvent } from "../../server/events/trace-store.ts";
import { startTestService } from "../helpers/service.ts";
import { isDecided, rawTrace } from "../helpers/traces.ts";
import { sendVobiz } from "../helpers/vobiz.ts";

const service = await startTestService(import.meta.url, {
  SECRET_CRM: "crm-secret-value",
  WORKER_CONCURRENCY: "5",
});
const redis = new Redis(service.redisUrl);
const { prefix } = service;
test.after(() => redis.quit());

const HANGUP = {
  Event: "Hangup",
  CallUUID: "c-1",
  From: "919876543210",
  To: "07971442086",
  CallStatus: "completed",
};
let counter = 0;
const unique = (): Record<string, string> => ({ ...HANGUP, CallUUID: `c-${process.pid}-${(counter += 1)}` });

interface Received {
  status: string;
  id: string;
  duplicate?: boolean;
}

test("a signed callback is stored before the 200 leaves: job and trace are in Redis", async () => {
  const response = await sendVobiz(service.url, "/events/vobiz?app=support", unique());
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /application\/json/);
  const body = (await response.json()) as Received;
  assert.equal(body.status, "received");
  assert.match(body.id, /^evt_[0-9A-Z]{26}$/);
  assert.equal(body.duplicate, undefined);
  const [jobExists, trace] = await Promise.all([
    redis.exists(`${prefix}:events:${body.id}`),
    rawTrace(redis, prefix, body.id),
  ]);
  assert.ok(jobExists === 1 || trace.decision !== undefined, "the job was added (or already processed)");
  assert.equal(trace.type, "Hangup");
  const event = tracedEvent(trace);
  assert.equal(event.id, body.id);
  assert.equal(event.route, "events");
  assert.equal(event.path, "/events/vobiz");
  assert.deepEqual(event.query, { app: "support" });
  assert.deepEqual(event.verification, { result: "verified", scheme: "v3" });
  assert.equal(typeof event.receivedAt, "string");
  assert.ok(
    Number(await redis.pttl(`${prefix}:trace:${body.id}`)) > 6 * 86_400_000,
    "kept for EVENT_RETENTION",
  );
  assert.ok((await redis.zscore(`${prefix}:index:events`, body.id)) !== null, "listed in the event index");
});

test("the worker takes every stored event", async () => {
  const { id } = (await (await sendVobiz(service.url, "/events", unique())).json()) as Received;
  const deadline = Date.now() + 10_000;
  while (!(await isDecided(redis, prefix, id))) {
    assert.ok(Date.now() < deadline, "processed within 10 s");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.equal(await redis.exists(`${prefix}:events:${id}`), 0, "completed jobs are removed");
});

test("an identical delivery is a duplicate with the first id, and nothing is enqueued again", async () => {
  const fields = unique();
  const first = (await (await sendVobiz(service.url, "/events", fields)).json()) as Received;
  const waitingBefore = await redis.llen(`${prefix}:events:wait`);
  const second = await sendVobiz(service.url, "/events", fields);
  assert.equal(second.status, 200);
  assert.deepEqual(await second.json(), { status: "received", id: first.id, duplicate: true });
  assert.ok((await redis.llen(`${prefix}:events:wait`)) <= waitingBefore);
  const third = (await (
    await sendVobiz(service.url, "/events", { ...fields, Duration: "1" })
  ).json()) as Received;
  assert.notEqual(third.id, first.id, "another body is another event");
});

test("the same nonce with the same body is a duplicate; with another body it is refused as a replay", async () => {
  const fields = unique();
  const nonces = { nonceV3: "70000000000000000001", nonceV2: "70000000000000000002" };
  const first = (await (await sendVobiz(service.url, "/events", fields, nonces)).json()) as Received;
  const again = (await (await sendVobiz(service.url, "/events", fields, nonces)).json()) as Received;
  assert.equal(again.duplicate, true);
  assert.equal(again.id, first.id);
  const replay = await sendVobiz(service.url, "/events", { ...fields, CallStatus: "busy" }, nonces);
  assert.equal(replay.status, 401);
  assert.equal(((await replay.json()) as { code: string }).code, "SIGNATURE_REPLAYED");
  const security = service.logs.lines().find((line) => line.security === true);
  assert.ok(security, "logged as a security event");
  assert.equal(security.level, "warn");
});

test("unsigned and badly signed requests are refused on /events and /answer alike, saying nothing of why", async () => {
  for (const path of ["/events", "/answer/support"]) {
    const unsigned = await sendVobiz(service.url, path, unique(), { unsigned: true });
    assert.equal(unsigned.status, 401);
    assert.deepEqual(await unsigned.json(), {
      code: "SIGNATURE_MISSING",
      message: "The request carries no Vobiz signature headers.",
    });
    const forged = await sendVobiz(service.url, path, unique(), { token: "wrong-token" });
    assert.equal(forged.status, 401);
    const body = (await forged.json()) as Record<string, unknown>;
    assert.deepEqual(body, { code: "SIGNATURE_INVALID", message: "The Vobiz signature does not verify." });
  }
});

test("a signature for another path does not verify, and query parameters are not signed", async () => {
  const elsewhere = await sendVobiz(service.url, "/events/a", unique(), {
    publicUrl: "https://other.example.com",
  });
  assert.equal(elsewhere.status, 401);
  const withQuery = await sendVobiz(service.url, "/events/a?tenant=42&x=1", unique());
  assert.equal(withQuery.status, 200, "signed over the path only");
});

test("GET callbacks carry the payload in the query string", async () => {
  const fields = unique();
  const response = await sendVobiz(service.url, "/events/get", fields, { method: "GET" });
  assert.equal(response.status, 200);
  const { id } = (await response.json()) as Received;
  const trace = await rawTrace(redis, prefix, id);
  assert.equal(tracePayload(trace).Event, "Hangup");
  assert.equal(
    tracedEvent(trace).raw,
    new URLSearchParams(fields).toString(),
    "the query string is kept as received",
  );
  assert.equal(tracedEvent(trace).method, "GET");
});

test("JSON bodies are accepted; secrets in payloads are redacted in the trace", async () => {
  const response = await sendVobiz(
    service.url,
    "/events",
    JSON.stringify({ ...unique(), auth_token: "x1", Note: "crm-secret-value" }),
    {
      headers: { "content-type": "application/json" },
    },
  );
  assert.equal(response.status, 200);
  const { id } = (await response.json()) as Received;
  const trace = await rawTrace(redis, prefix, id);
  assert.equal(tracedEvent(trace).raw, "", "a payload holding secrets is not kept raw");
  assert.ok(!JSON.stringify(trace).includes("crm-secret-value"));
  const payload = tracePayload(trace) as Record<string, string>;
  assert.equal(payload.auth_token, "[redacted]");
  assert.equal(payload.Note, "[redacted]");
  assert.equal(payload.Event, "Hangup");
});

test("bad bodies get their specific 4xx code", async () => {
  const cases: Array<[string | Record<string, string>, Record<string, string>, number, string]> = [
    ["x".repeat(70_000), {}, 413, "BODY_TOO_LARGE"],
    ["hello", { "content-type": "text/plain" }, 415, "UNSUPPORTED_CONTENT_TYPE"],
    ["a=%zz", {}, 400, "BODY_MALFORMED"],
    ["{nope", { "content-type": "application/json" }, 400, "BODY_MALFORMED"],
    ["[1,2]", { "content-type": "application/json" }, 400, "BODY_NOT_OBJECT"],
    [Array.from({ length: 501 }, (_, i) => `f${i}=1`).join("&"), {}, 400, "TOO_MANY_FIELDS"],
    [`${"n".repeat(300)}=1`, {}, 400, "FIELD_NAME_TOO_LONG"],
    ['{"a":'.repeat(25) + "1" + "}".repeat(25), { "content-type": "application/json" }, 400, "BODY_TOO_DEEP"],
    ["a=1", { "content-encoding": "gzip" }, 415, "UNSUPPORTED_CONTENT_TYPE"],
  ];
  for (const [body, headers, status, code] of cases) {
    const response = await sendVobiz(service.url, "/events", body, { headers });
    assert.equal(response.status, status, code);
    assert.equal(((await response.json()) as { code: string }).code, code);
  }
});

test("only GET and POST are events", async () => {
  for (const method of ["PUT", "DELETE", "PATCH"]) {
    const response = await sendVobiz(service.url, "/events", unique(), { method });
    assert.equal(response.status, 405, method);
    assert.equal(((await response.json()) as { code: string }).code, "METHOD_NOT_ALLOWED");
  }
  const head = await fetch(`${service.url}/events`, { method: "HEAD" });
  assert.equal(head.status, 405);
});

test("prototype-polluting field names are stored as plain data", async () => {
  const response = await sendVobiz(
    service.url,
    "/events",
    "__proto__[polluted]=1&constructor[prototype][polluted]=1&__proto__=x&Event=Ring",
  );
  assert.equal(response.status, 200);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  const { id } = (await response.json()) as Received;
  const payload = tracePayload(await rawTrace(redis, prefix, id));
  assert.equal(Object.getOwnPropertyDescriptor(payload, "__proto__")?.value, "x");
});

test("/answer stores the event and answers XML: the default reply, or <Response/> for a hangup", async () => {
  const start = await sendVobiz(service.url, "/answer/support", { ...unique(), Event: "StartApp" });
  assert.equal(start.status, 200);
  assert.equal(start.headers.get("content-type"), "application/xml; charset=utf-8");
  assert.match(await start.text(), /<Response>[\s\S]*<Hangup\/>/);
  const hangup = await sendVobiz(service.url, "/answer", unique());
  assert.match(await hangup.text(), /<Response\/>/);
  const stored = await redis.zcard(`${prefix}:index:events`);
  assert.ok(stored >= 2);
});

test("metrics count events by type and outcome, signature failures by reason, and duplicates", async () => {
  const text = await (await fetch(`${service.url}/metrics`)).text();
  assert.match(
    text,
    /switchboard_events_received_total\{route="events",type="Hangup",outcome="stored"\} [1-9]/,
  );
  assert.match(
    text,
    /switchboard_events_received_total\{route="events",type="Hangup",outcome="duplicate"\} [1-9]/,
  );
  assert.match(text, /switchboard_signature_failures_total\{reason="missing"\} [1-9]/);
  assert.match(text, /switchboard_signature_failures_total\{reason="mismatch"\} [1-9]/);
  assert.match(text, /switchboard_duplicates_total\{route="events"\} [1-9]/);
});

test("the event index is trimmed to the retention", async () => {
  const index = `${prefix}:index:events`;
  await redis.zadd(index, Date.now() - 8 * 86_400_000, "evt_OLD");
  const removed = await trimEventIndex(redis, prefix, 7 * 86_400_000);
  assert.equal(removed, 1);
  assert.equal(await redis.zscore(index, "evt_OLD"), null);
  assert.ok((await redis.zcard(index)) > 0, "recent events stay");
});
