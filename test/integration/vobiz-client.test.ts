import assert from "node:assert/strict";
import { test } from "node:test";
import { createVobizClient } from "../../server/calls/vobiz-client.ts";
import { FAKE_AUTH_ID, startFakeVobiz } from "../helpers/fake-vobiz.ts";

const vobiz = await startFakeVobiz("right-token");
const body = {
  from: "+14155551234",
  to: "+14155555678",
  answer_url: "https://sb.example.com/answer/x",
  answer_method: "POST" as const,
};

test("Make Call sends X-Auth-ID / X-Auth-Token and JSON to the PascalCase path with a trailing slash", async () => {
  const client = createVobizClient({ apiUrl: vobiz.url, authId: FAKE_AUTH_ID, authToken: "right-token" });
  assert.deepEqual(await client.makeCall(body), { request_uuid: "uuid-1" });
  const [sent] = vobiz.requests;
  assert.equal(sent?.headers.authorization, undefined, "not HTTP Basic");
  assert.equal(sent?.headers["content-type"], "application/json");
});

test("a refusal is VOBIZ_API_ERROR with Vobiz's status and message; missing credentials are VOBIZ_NOT_CONFIGURED", async () => {
  const wrong = createVobizClient({ apiUrl: vobiz.url, authId: FAKE_AUTH_ID, authToken: "wrong" });
  await assert.rejects(
    wrong.makeCall(body),
    (error: Error & { code?: string; details?: { vobizStatus?: number } }) => {
      assert.equal(error.code, "VOBIZ_API_ERROR");
      assert.equal(error.details?.vobizStatus, 401);
      assert.match(error.message, /authentication failed/);
      return true;
    },
  );
  const missing = createVobizClient({ apiUrl: vobiz.url, authId: undefined, authToken: "x" });
  await assert.rejects(missing.makeCall(body), { code: "VOBIZ_NOT_CONFIGURED" });
  const down = createVobizClient({ apiUrl: "http://127.0.0.1:9", authId: FAKE_AUTH_ID, authToken: "x" });
  await assert.rejects(down.makeCall(body), /Vobiz could not be reached/);
});
