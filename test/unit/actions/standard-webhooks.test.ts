import assert from "node:assert/strict";
import { test } from "node:test";
import { Webhook } from "standardwebhooks";
import { webhookHeaders } from "../../../server/actions/standard-webhooks.ts";

const SECRET = `whsec_${Buffer.from("0123456789abcdef0123456789abcdef").toString("base64")}`;
const BODY = JSON.stringify({ Event: "Hangup", From: "919876543210" });

test("signatures verify with the standardwebhooks library", () => {
  const headers = webhookHeaders(SECRET, "evt_1:crm:0", BODY);
  assert.deepEqual(new Webhook(SECRET).verify(BODY, headers), JSON.parse(BODY));
  assert.match(headers["webhook-signature"], /^v1,[A-Za-z0-9+/]+=*$/);
});

test("a changed body, id, timestamp or key does not verify", () => {
  const headers = webhookHeaders(SECRET, "evt_1:crm:0", BODY);
  const hook = new Webhook(SECRET);
  assert.throws(() => hook.verify(BODY.replace("Hangup", "Ring"), headers));
  assert.throws(() => hook.verify(BODY, { ...headers, "webhook-id": "evt_2:crm:0" }));
  assert.throws(() =>
    hook.verify(BODY, { ...headers, "webhook-timestamp": String(Number(headers["webhook-timestamp"]) - 1) }),
  );
  const other = `whsec_${Buffer.from("another-key-another-key-another!!").toString("base64")}`;
  assert.throws(() => new Webhook(other).verify(BODY, headers));
});
