import assert from "node:assert/strict";
import { test } from "node:test";
import { startTestService } from "../helpers/service.ts";

const service = await startTestService(import.meta.url, { SIGNATURE_POLICY: "off" });

test("/health answers while the process runs", async () => {
  const response = await fetch(`${service.url}/health`);
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { status: "ok" });
});

test("/ready reports Redis, the ruleset version and the signature-policy warning", async () => {
  const response = await fetch(`${service.url}/ready`);
  assert.equal(response.status, 200);
  const body = (await response.json()) as { status: string; ruleset: { hash: string }; warnings: string[] };
  assert.equal(body.status, "ready");
  assert.match(body.ruleset.hash, /^[0-9a-f]{64}$/);
  assert.ok(body.warnings.some((warning) => warning.startsWith("SIGNATURE_POLICY=off")));
});

test("/metrics speaks the Prometheus text format", async () => {
  const response = await fetch(`${service.url}/metrics`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /text\/plain/);
  assert.match(await response.text(), /# TYPE switchboard_events_received_total counter/);
});
