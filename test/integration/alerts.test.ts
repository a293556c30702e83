/**
 * Operational alerts (issue 17 item 6) against a real local HTTP receiver: Slack-compatible, Standard
 * Webhooks signed, rate-limited per kind, never blocking, and wired to dead letters, failed reloads, the
 * signature-failure rate and the circuit breakers.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Redis } from "ioredis";
import { Webhook } from "standardwebhooks";
import { createBreakers } from "../../server/actions/circuit-breaker.ts";
import { breakerAlerts } from "../../server/alerts/alert-sources.ts";
import { createAlerts, type Alerts } from "../../server/alerts/alerts.ts";
import { createMetrics } from "../../server/metrics.ts";
import { startHttpSink, type CapturedRequest } from "../helpers/http-sink.ts";
import { createLogSink } from "../helpers/log-sink.ts";
import { scratchRuleset } from "../helpers/rules.ts";
import { startTestService, TEST_ADMIN_TOKEN } from "../helpers/service.ts";
import { sendVobiz } from "../helpers/vobiz.ts";

const SECRET = `whsec_${Buffer.from("an-alert-signing-key-32-bytes!!!").toString("base64")}`;

interface AlertBody {
  text: string;
  kind: string;
  at: string;
  instance: string;
  suppressed: number;
  fields: Record<string, unknown>;
}

/** the alert's body, after checking its Standard Webhooks signature with the receiver's library */
function verified(request: CapturedRequest): AlertBody {
  const headers = Object.fromEntries(
    Object.entries(request.headers).map(([name, value]) => [name, String(value)]),
  );
  return new Webhook(SECRET).verify(request.body, headers) as AlertBody;
}

const receiver = await startHttpSink();
const alertsOf = (kind: string): AlertBody[] =>
  receiver.requests.map(verified).filter((alert) => alert.kind === kind);

async function until<T>(what: string, read: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    assert.ok(Date.now() < deadline, `${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function counted(metrics: ReturnType<typeof createMetrics>, kind: string, outcome: string) {
  const values = (await metrics.alerts.get()).values;
  return values.find((v) => v.labels.kind === kind && v.labels.outcome === outcome)?.value ?? 0;
}

test("an alert is a Slack-compatible JSON body with structured fields, signed the Standard Webhooks way", async () => {
  const sink = await startHttpSink();
  const alerts = createAlerts({
    url: `${sink.url}/hook`,
    secret: SECRET,
    intervalMs: 60_000,
    log: createLogSink().log,
  });
  alerts.notify({
    kind: "vobiz_unknown",
    summary: "Hangup of call c-1: no answer",
    eventId: "evt_1",
    rule: "r",
  });
  const [request] = await sink.waitFor(1);
  assert.ok(request !== undefined);
  assert.equal(request.method, "POST");
  assert.match(String(request.headers["content-type"]), /^application\/json/);
  const body = verified(request);
  assert.equal(body.text, "[switchboard] Hangup of call c-1: no answer");
  assert.equal(body.kind, "vobiz_unknown");
  assert.deepEqual(body.fields, { eventId: "evt_1", rule: "r" });
  assert.equal(body.suppressed, 0);
  // a body changed on the way does not verify
  assert.throws(() => verified({ ...request, body: request.body.replace("c-1", "c-2") }));
  await alerts.close();
});

test("at most one alert per kind per interval; the ones held back are counted in the next", async () => {
  const sink = await startHttpSink();
  const metrics = createMetrics();
  const alerts = createAlerts({
    url: sink.url,
    secret: SECRET,
    intervalMs: 300,
    log: createLogSink().log,
    metrics,
  });
  for (const host of ["a.example", "b.example", "c.example"])
    alerts.notify({ kind: "breaker_open", summary: `opened for ${host}`, host });
  alerts.notify({ kind: "dead_letter", id: "x" }); // another kind is not held back by the first
  const requests = await sink.waitFor(3);
  const bodies = requests.map(verified);
  const opened = bodies.filter((body) => body.kind === "breaker_open");
  assert.deepEqual(
    opened.map((body) => [body.fields.host, body.suppressed]),
    [
      ["a.example", 0],
      ["c.example", 1], // sent when the interval ended: the last one held back, and one more before it
    ],
  );
  assert.match(opened[1]?.text ?? "", /and 1 more breaker_open alert\(s\) since/);
  assert.equal(bodies.filter((body) => body.kind === "dead_letter").length, 1);
  await alerts.close(); // waits for the sends in flight
  assert.equal(await counted(metrics, "breaker_open", "sent"), 2);
});

test("notify never blocks: a receiver that does not answer times out, and the queue is bounded", async () => {
  const silent = await startHttpSink(() => ({ delayMs: 60_000 }));
  const metrics = createMetrics();
  const alerts: Alerts = createAlerts({
    url: silent.url,
    secret: SECRET,
    intervalMs: 0,
    timeoutMs: 200,
    maxQueued: 2,
    log: createLogSink().log,
    metrics,
  });
  // one is sent (and hangs), two wait, the other two are dropped at once
  for (let i = 0; i < 5; i += 1)
    assert.equal(alerts.notify({ kind: "dead_letter", id: `d-${i}` }), undefined);
  assert.equal(await counted(metrics, "dead_letter", "dropped"), 2);
  // each POST gives up after its timeout, and the next is sent
  const deadline = Date.now() + 20_000;
  while ((await counted(metrics, "dead_letter", "failed")) < 3) {
    assert.ok(Date.now() < deadline, "the three queued alerts timed out one after the other");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.equal(await counted(metrics, "dead_letter", "sent"), 0);
  await alerts.close();
});

test("close gives the queued alerts one timeout, then gives up on the rest", async () => {
  const silent = await startHttpSink(() => ({ delayMs: 60_000 }));
  const metrics = createMetrics();
  const alerts = createAlerts({
    url: silent.url,
    secret: SECRET,
    intervalMs: 0,
    timeoutMs: 200,
    log: createLogSink().log,
    metrics,
  });
  for (let i = 0; i < 10; i += 1) alerts.notify({ kind: "breaker_open", host: `h${i}` });
  await alerts.close();
  assert.equal(await counted(metrics, "breaker_open", "failed"), 10);
  alerts.notify({ kind: "breaker_open", host: "after close" }); // ignored
  assert.equal(await counted(metrics, "breaker_open", "failed"), 10);
});

test("a receiver that refuses is logged and counted, never thrown", async () => {
  const refusing = await startHttpSink(() => ({ status: 500 }));
  const metrics = createMetrics();
  const alerts = createAlerts({
    url: refusing.url,
    secret: SECRET,
    intervalMs: 0,
    log: createLogSink().log,
    metrics,
  });
  alerts.notify({ kind: "reload_failed" });
  await refusing.waitFor(1);
  await alerts.close();
  assert.equal(await counted(metrics, "reload_failed", "failed"), 1);
});

test("no ALERT_URL: notify does nothing", async () => {
  const alerts = createAlerts({ url: undefined, secret: undefined, intervalMs: 0, log: createLogSink().log });
  alerts.notify({ kind: "dead_letter" });
  await alerts.close();
});

test("a breaker's opening and closing are told to the alerts", async () => {
  const sink = await startHttpSink();
  const { url, prefix, onCleanup } = (await import("../helpers/redis.ts")).useTestRedis(import.meta.url);
  const redis = new Redis(url);
  onCleanup(async () => void (await redis.quit()));
  const alerts = createAlerts({ url: sink.url, secret: SECRET, intervalMs: 0, log: createLogSink().log });
  const breakers = createBreakers(
    redis,
    `${prefix}:b`,
    { threshold: 2, baseMs: 1, maxMs: 1 },
    breakerAlerts(alerts),
  );
  await breakers.record("down.example", false);
  assert.equal(await breakers.record("down.example", false), true);
  await breakers.record("down.example", true); // the probe succeeded
  await breakers.record("down.example", true); // already closed: no second alert
  const bodies = (await sink.waitFor(2)).map(verified);
  assert.deepEqual(
    bodies.map((body) => [body.kind, body.fields.host]),
    [
      ["breaker_open", "down.example"],
      ["breaker_closed", "down.example"],
    ],
  );
  await alerts.close();
  assert.equal(sink.requests.length, 2);
});

test("the service alerts on a dead-lettered delivery, a refused reload and a burst of bad signatures", async () => {
  const destination = await startHttpSink(() => ({ status: 400 }));
  const disk = await scratchRuleset({
    rules: {
      "refused.json": {
        rules: [{ id: "crm", on: "Hangup", actions: [{ type: "forward", url: `${destination.url}/crm` }] }],
      },
    },
  });
  const service = await startTestService(import.meta.url, {
    RULES_DIR: disk.rulesDir,
    TEMPLATES_DIR: disk.templatesDir,
    ALERT_URL: `${receiver.url}/alerts`,
    ALERT_SECRET: SECRET,
    ALERT_SIGNATURE_FAILURES: "3",
    LOG_LEVEL: "warn",
  });

  // a destination that answers 400 is not retried: the delivery is dead-lettered at once
  const stored = await sendVobiz(service.url, "/events", { Event: "Hangup", CallUUID: "alert-dl" });
  const { id } = (await stored.json()) as { id: string };
  const [deadLetter] = await until("a dead_letter alert", () =>
    alertsOf("dead_letter").length > 0 ? alertsOf("dead_letter") : undefined,
  );
  assert.equal(deadLetter?.fields.eventId, id);
  assert.equal(deadLetter?.fields.rule, "crm");
  assert.match(deadLetter?.text ?? "", /rule crm/);

  // a reload that the rule files refuse
  await disk.write("rules/broken.json", "{ not json");
  const reload = await fetch(`${service.url}/admin/reload`, {
    method: "POST",
    headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
  });
  assert.equal(reload.status, 422);
  const [reloadFailed] = await until("a reload_failed alert", () =>
    alertsOf("reload_failed").length > 0 ? alertsOf("reload_failed") : undefined,
  );
  assert.match(reloadFailed?.text ?? "", /broken\.json/);

  // three refused signatures within a minute reach ALERT_SIGNATURE_FAILURES=3
  for (let i = 0; i < 3; i += 1) {
    const refused = await sendVobiz(service.url, "/events", { Event: "Hangup" }, { unsigned: true });
    assert.equal(refused.status, 401);
  }
  const [burst] = await until("a signature_failures alert", () =>
    alertsOf("signature_failures").length > 0 ? alertsOf("signature_failures") : undefined,
  );
  assert.equal(burst?.fields.failures, 3);
  assert.deepEqual(burst?.fields.byReason, { missing: 3 });
});
