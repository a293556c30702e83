import assert from "node:assert/strict";
import { test } from "node:test";
import { createLogSink } from "../helpers/log-sink.ts";

test("credentials, signatures, tokens and secrets are redacted by path", () => {
  const sink = createLogSink();
  sink.log.info(
    {
      headers: {
        authorization: "Bearer abc",
        "x-vobiz-signature-v3": "sig3",
        "x-vobiz-signature-ma-v2": "sig",
        host: "h",
      },
      req: { headers: { authorization: "Bearer def", "x-vobiz-signature-v2": "sig2" } },
      token: "tok",
      config: { authToken: "at", adminToken: "adm", vobiz: { parentAuthToken: "pat" } },
      secrets: { CRM: "crm-secret" },
      template: { secrets: { SLACK: "slack-secret" } },
      response: { headers: { "webhook-signature": "v1,whsig" } },
    },
    "hello",
  );
  const text = sink.text();
  for (const secret of [
    "Bearer abc",
    "Bearer def",
    "sig3",
    "sig2",
    '"sig"',
    '"tok"',
    '"at"',
    '"adm"',
    "crm-secret",
    "slack-secret",
  ]) {
    assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
  }
  const [line] = sink.lines();
  assert.equal((line?.headers as Record<string, string>).host, "h");
  assert.equal((line?.headers as Record<string, string>).authorization, "[redacted]");
});

test("child loggers keep their bindings and the level is a label", () => {
  const sink = createLogSink();
  sink.log.child({ requestId: "r1" }).warn("careful");
  assert.deepEqual(
    { level: sink.lines()[0]?.level, requestId: sink.lines()[0]?.requestId, msg: sink.lines()[0]?.msg },
    { level: "warn", requestId: "r1", msg: "careful" },
  );
});
