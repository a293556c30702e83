/**
 * Rules that act on calls (issue 15), against the strict fake Vobiz API: each action's request as the
 * reference gives it, retries only when the request provably did not reach Vobiz (refused connection,
 * 429 with Retry-After, 5xx), no retry once the outcome is unknown (a hang, a dropped connection) until
 * an operator retries it from the dead letters, 404 on hangup, the loop breaker and the per-number cap.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Redis } from "ioredis";
import { Webhook } from "standardwebhooks";
import { FAKE_AUTH_ID, startFakeVobiz, type FakeRequest } from "../helpers/fake-vobiz.ts";
import { startHttpSink } from "../helpers/http-sink.ts";
import { scratchRuleset } from "../helpers/rules.ts";
import { TEST_ADMIN_TOKEN, TEST_AUTH_TOKEN, TEST_PUBLIC_URL, startTestService } from "../helpers/service.ts";
import { rawTrace } from "../helpers/traces.ts";
import { sendVobiz } from "../helpers/vobiz.ts";

const vobiz = await startFakeVobiz(TEST_AUTH_TOKEN);
// operational alerts (ALERT_URL): an unknown outcome tells a person
const ALERT_SECRET = `whsec_${Buffer.from("vobiz-actions-alert-key-32bytes!").toString("base64")}`;
const alertReceiver = await startHttpSink();
test.after(() => alertReceiver.close());
const rule = (id: string, action: Record<string, unknown>): Record<string, unknown> => ({
  id,
  on: "Hangup",
  when: { "==": [{ var: "Case" }, id] },
  actions: [{ type: "vobiz", ...action }],
});
const disk = await scratchRuleset({
  rules: {
    "actions.json": {
      rules: [
        rule("hangup", { vobiz: "hangup" }),
        rule("transfer", {
          vobiz: "transfer",
          params: { legs: "aleg", aleg_url: "<<meta.public_url>>/answer/vip", aleg_method: "POST" },
        }),
        rule("speak", {
          vobiz: "speak",
          params: { text: 'Hello "<<caller>>"', voice: "WOMAN", language: "en-IN", loop: "<<Loop>>" },
        }),
        rule("speak_stop", { vobiz: "speak_stop" }),
        rule("play", { vobiz: "play", params: { urls: "https://cdn.example.com/a.mp3", legs: "both" } }),
        rule("play_stop", { vobiz: "play_stop" }),
        rule("dtmf", { vobiz: "dtmf", params: { digits: "12#w", leg: "bleg" } }),
        rule("record_start", {
          vobiz: "record_start",
          params: { file_format: "mp3", time_limit: 60, callback_url: "<<meta.public_url>>/events/recorded" },
        }),
        rule("record_stop", { vobiz: "record_stop", params: { call_uuid: "other-call" } }),
        rule("make_call", {
          vobiz: "make_call",
          params: {
            from: "+918040001234",
            to: "<<From | e164>>",
            flow: "sales",
            status_url: "https://crm.example.com/status",
            caller_name: "Acme",
          },
        }),
        rule("whatsapp_message", {
          vobiz: "whatsapp_message",
          params: {
            channel_id: "ch-1",
            to: "<<From | e164>>",
            type: "text",
            text: { body: "Sorry we missed you, <<caller>>" },
          },
        }),
        rule("loop", {
          vobiz: "make_call",
          params: { from: "+918040001234", to: "<<From | e164>>", flow: "sales" },
          limits: { per_number: { max: 100 } },
        }),
        rule("secret", { vobiz: "speak", params: { text: "Your PIN is <<secrets.PIN>>" } }),
        rule("cap", {
          vobiz: "make_call",
          params: { from: "+918040001234", to: "<<From | e164>>", flow: "sales" },
        }),
      ],
    },
  },
});
const service = await startTestService(import.meta.url, {
  RULES_DIR: disk.rulesDir,
  TEMPLATES_DIR: disk.templatesDir,
  VOBIZ_AUTH_ID: FAKE_AUTH_ID,
  VOBIZ_API_URL: vobiz.url,
  VOBIZ_TIMEOUT: "1s",
  SECRET_PIN: "4321",
  ALERT_URL: `${alertReceiver.url}/alerts`,
  ALERT_SECRET,
  LOG_LEVEL: "info",
});
const redis = new Redis(service.redisUrl);
test.after(() => redis.quit());

const admin = (path: string, init: RequestInit = {}): Promise<Response> =>
  fetch(`${service.url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, "content-type": "application/json" },
  });

async function send(fields: Record<string, string>, pathAndQuery = "/events"): Promise<string> {
  const response = await sendVobiz(service.url, pathAndQuery, { Event: "Hangup", ...fields });
  assert.equal(response.status, 200);
  return ((await response.json()) as { id: string }).id;
}

/** the action's state in the trace, once it is one of `states` */
async function settled(id: string, rule: string, states: string[]): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const trace = await rawTrace(redis, service.prefix, id);
    const state = trace[`a:${rule}:0`] as Record<string, unknown> | undefined;
    if (state !== undefined && states.includes(String(state.state))) return state;
    assert.ok(
      Date.now() < deadline,
      `${id}: ${rule} never reached ${states.join("/")}: ${JSON.stringify(trace)}`,
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const ACCOUNT = `/api/v1/Account/${FAKE_AUTH_ID}`;
const only = (requests: FakeRequest[], method: string, path: string): FakeRequest[] =>
  requests.filter((r) => r.method === method && r.path === path);

test("each action sends the request the reference gives, with the auth headers, once", async () => {
  const cases: Array<[string, string, string, unknown]> = [
    ["hangup", "DELETE", `${ACCOUNT}/Call/c-hangup/`, undefined],
    [
      "transfer",
      "POST",
      `${ACCOUNT}/Call/c-transfer/`,
      { legs: "aleg", aleg_url: `${TEST_PUBLIC_URL}/answer/vip?sb_hop=1`, aleg_method: "POST" },
    ],
    [
      "speak",
      "POST",
      `${ACCOUNT}/Call/c-speak/Speak/`,
      { text: 'Hello "919876543210"', voice: "WOMAN", language: "en-IN", loop: true },
    ],
    ["speak_stop", "DELETE", `${ACCOUNT}/Call/c-speak_stop/Speak/`, undefined],
    ["play", "POST", `${ACCOUNT}/Call/c-play/Play/`, { urls: "https://cdn.example.com/a.mp3", legs: "both" }],
    ["play_stop", "DELETE", `${ACCOUNT}/Call/c-play_stop/Play/`, undefined],
    ["dtmf", "POST", `${ACCOUNT}/Call/c-dtmf/DTMF/`, { digits: "12#w", leg: "bleg" }],
    [
      "record_start",
      "POST",
      `${ACCOUNT}/Call/c-record_start/Record/`,
      { file_format: "mp3", time_limit: 60, callback_url: `${TEST_PUBLIC_URL}/events/recorded?sb_hop=1` },
    ],
    ["record_stop", "DELETE", `${ACCOUNT}/Call/other-call/Record/`, undefined],
    [
      "whatsapp_message",
      "POST",
      "/api/v1/messaging/messages",
      {
        channel_id: "ch-1",
        to: "+919876543210",
        type: "text",
        text: { body: "Sorry we missed you, 919876543210" },
      },
    ],
  ];
  const ids = new Map<string, string>();
  for (const [name] of cases)
    ids.set(name, await send({ Case: name, CallUUID: `c-${name}`, From: "919876543210", Loop: "true" }));
  for (const [name, method, path, body] of cases) {
    const state = await settled(ids.get(name)!, name, ["delivered", "dead_letter", "unknown"]);
    assert.equal(state.state, "delivered", `${name}: ${JSON.stringify(state)}`);
    const sent = only(vobiz.requests, method, path);
    assert.equal(sent.length, 1, `${name}: ${method} ${path} once`);
    const [request] = sent;
    assert.equal(request?.headers["x-auth-id"], FAKE_AUTH_ID);
    assert.equal(request?.headers["x-auth-token"], TEST_AUTH_TOKEN);
    assert.deepEqual(request?.body, body, name);
    assert.match(String(state.request), new RegExp(`^${method} `));
  }
});

test("make_call reports back through Switchboard: its URLs carry the call's id and the next hop", async () => {
  const id = await send({ Case: "make_call", CallUUID: "c-make", From: "919812345678" });
  const state = await settled(id, "make_call", ["delivered", "dead_letter", "unknown"]);
  assert.equal(state.state, "delivered", JSON.stringify(state));
  const [made] = only(vobiz.requests, "POST", `${ACCOUNT}/Call/`).filter(
    (r) => (r.body as { to?: string }).to === "+919812345678",
  );
  const body = made?.body as Record<string, string>;
  const call = new URL(body.answer_url!).searchParams.get("call");
  assert.match(call ?? "", /^call_/);
  assert.deepEqual(body, {
    from: "+918040001234",
    to: "+919812345678",
    caller_name: "Acme",
    answer_url: `${TEST_PUBLIC_URL}/answer/sales?call=${call}&sb_hop=1`,
    answer_method: "POST",
    ring_url: `${TEST_PUBLIC_URL}/events/calls?call=${call}&sb_hop=1`,
    ring_method: "POST",
    hangup_url: `${TEST_PUBLIC_URL}/events/calls?call=${call}&sb_hop=1`,
    hangup_method: "POST",
  });
  assert.equal(state.request_uuid, (await redis.hget(ledgerKey(id, "make_call"), "request_uuid")) ?? "?");
  const stored = JSON.parse((await redis.get(`${service.prefix}:call:${call}`)) ?? "{}") as Record<
    string,
    unknown
  >;
  assert.equal(stored.status_url, "https://crm.example.com/status");
  assert.equal(stored.request_uuid, state.request_uuid);
});

const ledgerKey = (id: string, rule: string): string => `${service.prefix}:vobiz:ledger:${id}:${rule}:0`;

test("a refused connection is retried: nothing reached Vobiz", async () => {
  await vobiz.close();
  const id = await send({ Case: "hangup", CallUUID: "c-refused" });
  const retrying = await settled(id, "hangup", ["retrying"]);
  assert.match(String(retrying.error), /ECONNREFUSED/);
  await vobiz.reopen();
  const state = await settled(id, "hangup", ["delivered", "dead_letter", "unknown"]);
  assert.equal(state.state, "delivered");
  assert.ok(Number(state.attempt) >= 2);
  assert.equal(only(vobiz.requests, "DELETE", `${ACCOUNT}/Call/c-refused/`).length, 1);
});

test("429 and 5xx are retried, and Retry-After is honoured", async () => {
  const path = `${ACCOUNT}/Call/c-busy/`;
  vobiz.script(new RegExp(`^DELETE ${path}$`), [{ status: 503 }, { status: 429, retryAfter: "2" }]);
  const id = await send({ Case: "hangup", CallUUID: "c-busy" });
  const state = await settled(id, "hangup", ["delivered", "dead_letter", "unknown"]);
  assert.equal(state.state, "delivered");
  const sent = only(vobiz.requests, "DELETE", path);
  assert.deepEqual(
    sent.map((r) => r.answered),
    [503, 429, 204],
  );
  assert.equal(state.attempt, 3);
  const trace = await rawTrace(redis, service.prefix, id);
  assert.equal((trace["t:hangup:0:2"] as { retryAfterMs?: number }).retryAfterMs, 2000);
});

test("a request that hangs past VOBIZ_TIMEOUT is not retried: unknown, in the dead letters until an operator retries it", async () => {
  const path = `${ACCOUNT}/Call/c-hang/Speak/`;
  vobiz.script(new RegExp(`^POST ${path}$`), ["hang"]);
  const id = await send({ Case: "speak", CallUUID: "c-hang", From: "919876543210", Loop: "false" });
  const state = await settled(id, "speak", ["unknown", "delivered", "dead_letter"]);
  assert.equal(state.state, "unknown", JSON.stringify(state));
  assert.match(String(state.reason), /may have reached Vobiz/);
  assert.equal(await redis.hget(ledgerKey(id, "speak"), "state"), "unknown");
  const letters = (await (await admin("/admin/dead-letters?rule=speak")).json()) as {
    items: Array<{ id: string; eventId: string; needs_decision?: string }>;
  };
  const letter = letters.items.find((item) => item.eventId === id);
  assert.match(letter?.needs_decision ?? "", /may have reached Vobiz/);
  const metrics = await (await fetch(`${service.url}/metrics`)).text();
  assert.match(metrics, /switchboard_vobiz_unknown_total\{action="speak"\} [1-9]/);
  assert.ok(
    service.logs
      .lines()
      .some((line) => line.level === "warn" && String(line.msg).includes("outcome unknown")),
  );
  assert.equal(only(vobiz.requests, "POST", path).length, 1, "not retried on its own");
  // other tests' dead letters alert too: wait for this one (bounded)
  type AlertBody = { kind: string; fields?: { eventId?: string; action?: string } };
  let alert: AlertBody | undefined;
  for (let waited = 0; alert === undefined && waited < 30_000; waited += 50) {
    alert = alertReceiver.requests
      .map(
        (request) =>
          new Webhook(ALERT_SECRET).verify(
            request.body,
            request.headers as Record<string, string>,
          ) as AlertBody,
      )
      .find((body) => body.kind === "vobiz_unknown" && body.fields?.eventId === id);
    if (alert === undefined) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.equal(alert?.fields?.action, "speak", "the unknown outcome raised a signed vobiz_unknown alert");

  const bulk = await admin("/admin/dead-letters/retry", {
    method: "POST",
    body: JSON.stringify({ rule: "speak" }),
  });
  const skipped = (await bulk.json()) as { retried: number; needing_decision?: number };
  assert.equal(skipped.retried, 0, "retrying every dead letter leaves the unknown ones to a decision");
  assert.equal(skipped.needing_decision, 1);
  assert.equal(only(vobiz.requests, "POST", path).length, 1);

  const retried = await admin(`/admin/dead-letters/${encodeURIComponent(letter!.id)}/retry`, {
    method: "POST",
  });
  assert.equal(retried.status, 202);
  const after = await settled(id, "speak", ["delivered"]);
  assert.equal(after.status, 202);
  assert.equal(only(vobiz.requests, "POST", path).length, 2, "sent once more, by the operator's choice");
});

test("a dropped connection after the request was written is an unknown outcome too", async () => {
  const path = `${ACCOUNT}/Call/c-drop/DTMF/`;
  vobiz.script(new RegExp(`^POST ${path}$`), ["drop"]);
  const id = await send({ Case: "dtmf", CallUUID: "c-drop" });
  const state = await settled(id, "dtmf", ["unknown", "delivered", "dead_letter"]);
  assert.equal(state.state, "unknown");
  assert.equal(only(vobiz.requests, "POST", path).length, 1);
});

test("hangup of a call that already ended (404) is done, with a note", async () => {
  vobiz.ended.add("c-gone");
  const id = await send({ Case: "hangup", CallUUID: "c-gone" });
  const state = await settled(id, "hangup", ["delivered", "dead_letter", "unknown"]);
  assert.equal(state.state, "delivered");
  assert.equal(state.status, 404);
  assert.match(String(state.note), /already ended/);
});

test("the loop breaker stops make_call → its callbacks → make_call after 3 hops", async () => {
  let id = await send({ Case: "loop", CallUUID: "loop-0", From: "919800000001" });
  for (let hop = 1; hop <= 3; hop += 1) {
    const state = await settled(id, "loop", ["delivered", "refused", "dead_letter", "unknown"]);
    assert.equal(state.state, "delivered", `hop ${hop}: ${JSON.stringify(state)}`);
    const calls = only(vobiz.requests, "POST", `${ACCOUNT}/Call/`).filter(
      (r) => (r.body as { to?: string }).to === "+919800000001",
    );
    assert.equal(calls.length, hop);
    // the placed call ends: Vobiz calls its hangup URL, and the same rule matches that callback
    const hangup = new URL((calls.at(-1)?.body as { hangup_url: string }).hangup_url);
    assert.equal(hangup.searchParams.get("sb_hop"), String(hop));
    id = await send(
      { Case: "loop", CallUUID: `loop-${hop}`, From: "919800000001" },
      `${hangup.pathname}${hangup.search}`,
    );
  }
  const refused = await settled(id, "loop", ["delivered", "refused", "dead_letter", "unknown"]);
  assert.equal(refused.state, "refused");
  assert.match(String(refused.reason), /sb_hop=3.*allows 3/);
  const metrics = await (await fetch(`${service.url}/metrics`)).text();
  assert.match(metrics, /switchboard_vobiz_refusals_total\{action="make_call",reason="max_hops"\} 1/);
  const calls = only(vobiz.requests, "POST", `${ACCOUNT}/Call/`).filter(
    (r) => (r.body as { to?: string }).to === "+919800000001",
  );
  assert.equal(calls.length, 3);
});

test("at most 3 make_call to the same number per rule in 10 minutes", async () => {
  const ids: string[] = [];
  for (let i = 0; i < 4; i += 1)
    ids.push(await send({ Case: "cap", CallUUID: `cap-${i}`, From: "919800000002" }));
  const states = [];
  for (const id of ids)
    states.push(await settled(id, "cap", ["delivered", "refused", "dead_letter", "unknown"]));
  assert.deepEqual(states.map((s) => s.state).sort(), ["delivered", "delivered", "delivered", "refused"]);
  const refused = states.find((s) => s.state === "refused");
  assert.match(String(refused?.reason), /3 times within 10m \(limit 3\)/);
  const calls = only(vobiz.requests, "POST", `${ACCOUNT}/Call/`).filter(
    (r) => (r.body as { to?: string }).to === "+919800000002",
  );
  assert.equal(calls.length, 3);
  assert.ok(
    service.logs.lines().some((line) => line.level === "warn" && String(line.msg).includes("loop breaker")),
  );
});

test("the dry run shows each rendered Vobiz request, secrets and the token masked, and sends nothing", async () => {
  const before = vobiz.requests.length;
  const evaluate = async (Case: string, query = ""): Promise<Record<string, unknown>> => {
    const response = await admin("/admin/evaluate", {
      method: "POST",
      body: JSON.stringify({
        path: "/events",
        query: query === "" ? undefined : { sb_hop: query },
        event: { Event: "Hangup", Case, CallUUID: "c-dry", From: "919876543210" },
      }),
    });
    assert.equal(response.status, 200);
    const body = (await response.json()) as { matched: Array<{ actions: Array<Record<string, unknown>> }> };
    return body.matched[0]!.actions[0]!;
  };
  const secret = await evaluate("secret");
  assert.deepEqual(secret.request, {
    method: "POST",
    path: `${ACCOUNT}/Call/c-dry/Speak/`,
    headers: { "X-Auth-ID": FAKE_AUTH_ID, "X-Auth-Token": "[redacted]" },
    body: { text: "Your PIN is [secret PIN]" },
  });
  assert.doesNotMatch(JSON.stringify(secret), /4321|test-auth-token/);
  const call = await evaluate("make_call");
  assert.equal((call.request as { path: string }).path, `${ACCOUNT}/Call/`);
  assert.match(
    String((call.request as { body: { answer_url: string } }).body.answer_url),
    /^https:\/\/sb\.example\.com\/answer\/sales\?call=.*&sb_hop=1$/,
  );
  const looped = await evaluate("loop", "3");
  assert.match(String(looped.refused), /max_hops/);
  assert.equal(vobiz.requests.length, before, "nothing was sent");
});
