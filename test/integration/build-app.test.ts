/**
 * The web role's app is buildApp(deps) over a real Redis, driven without a port (light-my-request): an
 * event is stored with its trace before the 200, /answer gets its XML, the admin API reads the trace back.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Redis } from "ioredis";
import { inject } from "light-my-request";
import { signRequest, signatureBaseUrl } from "../../server/signatures/vobiz-signature.ts";
import { buildTestApp } from "../helpers/app.ts";
import { TEST_ADMIN_TOKEN, TEST_AUTH_TOKEN, TEST_PUBLIC_URL } from "../helpers/service.ts";
import { rawTrace } from "../helpers/traces.ts";

const { app, prefix, redisUrl } = await buildTestApp(import.meta.url);
const redis = new Redis(redisUrl);
test.after(() => redis.quit());

const signed = (path: string): Record<string, string> => ({
  ...signRequest(signatureBaseUrl(TEST_PUBLIC_URL, path), TEST_AUTH_TOKEN),
  "content-type": "application/x-www-form-urlencoded",
});

test("a signed callback is stored (trace, index, event job) before the 200, without a listening port", async () => {
  const response = await inject(app.callback(), {
    method: "POST",
    url: "/events/vobiz",
    headers: signed("/events/vobiz"),
    payload: `Event=Hangup&CallUUID=app-${process.pid}&From=919876543210`,
  });
  assert.equal(response.statusCode, 200);
  const { id } = response.json<{ id: string }>();
  const trace = await rawTrace(redis, prefix, id);
  assert.equal(trace.type, "Hangup");
  assert.equal(
    await redis.exists(`${prefix}:events:${id}`),
    1,
    "ROLE=web leaves the decision to an event job",
  );

  const view = await inject(app.callback(), {
    method: "GET",
    url: `/admin/events/${id}`,
    headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
  });
  assert.equal(view.statusCode, 200);
  assert.equal(view.json<{ payload: { CallUUID: string } }>().payload.CallUUID, `app-${process.pid}`);
});

test("/answer answers XML, and its event is decided from the reply's own evaluation", async () => {
  const response = await inject(app.callback(), {
    method: "POST",
    url: "/answer",
    headers: signed("/answer"),
    payload: `CallUUID=answer-${process.pid}&From=919876543210&To=918031234567`,
  });
  assert.equal(response.statusCode, 200);
  assert.match(String(response.headers["content-type"]), /application\/xml/);
  assert.match(response.body, /<Response>/);
  const [id] = await redis.zrange(`${prefix}:index:events`, -1, -1);
  const trace = await rawTrace(redis, prefix, id ?? "");
  assert.ok(trace.decision !== undefined, "decided in the request path, with no event job");
  assert.equal(await redis.exists(`${prefix}:events:${id}`), 0);
});

test("unsigned requests get 401 SIGNATURE_MISSING", async () => {
  const response = await inject(app.callback(), { method: "POST", url: "/events", payload: "Event=Hangup" });
  assert.equal(response.statusCode, 401);
  assert.equal(response.json<{ code: string }>().code, "SIGNATURE_MISSING");
});
