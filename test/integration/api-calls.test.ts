/**
 * Calls placed through Switchboard (SPEC §6.3) and the per-call level of the callback hierarchy: the seed
 * "Make Call with Custom Callback" example's status_url receives that call's events, ahead of the
 * application's callback_url.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { FAKE_AUTH_ID, startFakeVobiz } from "../helpers/fake-vobiz.ts";
import { startHttpSink } from "../helpers/http-sink.ts";
import { REPO, scratchRuleset } from "../helpers/rules.ts";
import { TEST_ADMIN_TOKEN, TEST_AUTH_TOKEN, TEST_PUBLIC_URL, startTestService } from "../helpers/service.ts";
import { sendVobiz } from "../helpers/vobiz.ts";

const sink = await startHttpSink();
const vobiz = await startFakeVobiz(TEST_AUTH_TOKEN);
const disk = await scratchRuleset({
  rules: {
    "app.json": { callbacks: { applications: { support: { callback_url: `${sink.url}/app-callback` } } } },
  },
});
const service = await startTestService(import.meta.url, {
  RULES_DIR: disk.rulesDir,
  TEMPLATES_DIR: disk.templatesDir,
  VOBIZ_AUTH_ID: FAKE_AUTH_ID,
  VOBIZ_API_URL: vobiz.url,
});
const place = (body: unknown): Promise<Response> =>
  fetch(`${service.url}/api/calls`, {
    method: "POST",
    headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });

test("the seed's per-call example places a call through Vobiz with this service's URLs", async () => {
  const seed = JSON.parse(
    readFileSync(path.join(REPO, "test/fixtures/seeds/per-call-callback.json"), "utf8").replaceAll(
      "https://api.yourapp.com",
      sink.url,
    ),
  ) as Record<string, unknown>;
  const response = await place({ ...seed, flow: "support" });
  assert.equal(response.status, 201);
  const { id, request_uuid } = (await response.json()) as { id: string; request_uuid: string };
  assert.match(id, /^call_[0-9A-Z]{26}$/);
  assert.equal(request_uuid, "uuid-1");
  const [made] = vobiz.requests;
  assert.equal(made?.path, `/api/v1/Account/${FAKE_AUTH_ID}/Call/`);
  assert.deepEqual(made?.body, {
    from: "+14155551234",
    to: "+14155555678",
    answer_url: `${TEST_PUBLIC_URL}/answer/support?call=${id}`,
    answer_method: "POST",
    ring_url: `${TEST_PUBLIC_URL}/events/calls?call=${id}`,
    ring_method: "POST",
    hangup_url: `${TEST_PUBLIC_URL}/events/calls?call=${id}`,
    hangup_method: "POST",
  });

  // that call's hangup (on an application that has its own callback_url): the per-call status_url wins
  await sendVobiz(service.url, `/events/calls?call=${id}&app=support`, {
    Event: "Hangup",
    CallUUID: request_uuid,
    From: "+14155551234",
  });
  const [delivered] = await sink.waitFor(1);
  assert.equal(delivered?.url, "/webhooks/specific-call");
  assert.equal(delivered?.method, "POST");
  assert.match(delivered?.body ?? "", /^Event=Hangup&CallUUID=uuid-1/);
  // another call of the same application still goes to the application's callback_url
  await sendVobiz(service.url, "/events/calls?app=support", { Event: "Hangup", CallUUID: "other" });
  const [, second] = await sink.waitFor(2);
  assert.equal(second?.url, "/app-callback");
});

test("bad requests are refused with every problem, and without the token", async () => {
  const bad = await place({ to: "", flow: "../x", status_method: "PUT" });
  assert.equal(bad.status, 400);
  const body = (await bad.json()) as { code: string; problems: string[] };
  assert.equal(body.code, "ADMIN_BODY_INVALID");
  assert.equal(body.problems.length, 4);
  const unauthorised = await fetch(`${service.url}/api/calls`, { method: "POST" });
  assert.equal(unauthorised.status, 401);
});
