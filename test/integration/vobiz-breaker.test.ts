/**
 * Vobiz actions share the Vobiz host's circuit breaker (issue 15 item 4): once requests to the Vobiz API
 * keep failing, the breaker for its host opens, a forward to that host waits too, and the next vobiz
 * action waits without sending or spending an attempt. Its own service and fake Vobiz: an open breaker
 * would hold up the other action tests.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Redis } from "ioredis";
import { FAKE_AUTH_ID, startFakeVobiz } from "../helpers/fake-vobiz.ts";
import { scratchRuleset } from "../helpers/rules.ts";
import { TEST_AUTH_TOKEN, startTestService } from "../helpers/service.ts";
import { rawTrace } from "../helpers/traces.ts";
import { sendVobiz } from "../helpers/vobiz.ts";

const vobiz = await startFakeVobiz(TEST_AUTH_TOKEN);
const disk = await scratchRuleset({
  rules: {
    "breaker.json": {
      rules: [
        {
          id: "hangup",
          on: "Hangup",
          when: { "==": [{ var: "Case" }, "hangup"] },
          actions: [{ type: "vobiz", vobiz: "hangup" }],
        },
        {
          id: "to-vobiz-host",
          on: "Hangup",
          when: { "==": [{ var: "Case" }, "forward"] },
          actions: [{ type: "forward", url: `${vobiz.url}/hook` }],
        },
      ],
    },
  },
});
const service = await startTestService(import.meta.url, {
  RULES_DIR: disk.rulesDir,
  TEMPLATES_DIR: disk.templatesDir,
  VOBIZ_AUTH_ID: FAKE_AUTH_ID,
  VOBIZ_API_URL: vobiz.url,
  VOBIZ_TIMEOUT: "2s",
});
const redis = new Redis(service.redisUrl);
test.after(() => redis.quit());

async function send(fields: Record<string, string>): Promise<string> {
  const response = await sendVobiz(service.url, "/events", { Event: "Hangup", ...fields });
  assert.equal(response.status, 200);
  return ((await response.json()) as { id: string }).id;
}

async function stateOf(id: string, rule: string, states: string[]): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const state = (await rawTrace(redis, service.prefix, id))[`a:${rule}:0`] as
      Record<string, unknown> | undefined;
    if (state !== undefined && states.includes(String(state.state))) return state;
    assert.ok(
      Date.now() < deadline,
      `${id}: ${rule} never reached ${states.join("/")}: ${JSON.stringify(state)}`,
    );
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

test("failing Vobiz requests open the Vobiz host's breaker: the next action and a forward to that host wait", async () => {
  const host = new URL(vobiz.url).host;
  const ACCOUNT = `/api/v1/Account/${FAKE_AUTH_ID}`;
  // ten calls whose hangups Vobiz refuses with 503 (provably not taken): ten failures in a row
  const failing = Array.from({ length: 10 }, (_, i) => `c-down-${i}`);
  for (const call of failing)
    vobiz.script(
      new RegExp(`^DELETE ${ACCOUNT}/Call/${call}/$`),
      Array.from({ length: 5 }, () => ({ status: 503 })),
    );
  const ids = await Promise.all(failing.map((call) => send({ Case: "hangup", CallUUID: call })));
  for (const id of ids) await stateOf(id, "hangup", ["retrying", "waiting", "dead_letter"]);
  const metrics = async (): Promise<string> => (await fetch(`${service.url}/metrics`)).text();
  const deadline = Date.now() + 30_000;
  while (!/switchboard_open_circuit_breakers [1-9]/.test(await metrics())) {
    assert.ok(Date.now() < deadline, "the Vobiz host's breaker never opened");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  const before = vobiz.requests.length;
  const next = await send({ Case: "hangup", CallUUID: "c-next" });
  const waiting = await stateOf(next, "hangup", ["waiting", "delivered", "dead_letter", "unknown"]);
  assert.equal(waiting.state, "waiting", JSON.stringify(waiting));
  assert.match(String(waiting.note), new RegExp(`circuit breaker open for ${host}`));

  const forward = await send({ Case: "forward", CallUUID: "c-forward" });
  const held = await stateOf(forward, "to-vobiz-host", ["waiting", "delivered", "retrying", "dead_letter"]);
  assert.equal(
    held.state,
    "waiting",
    `a forward to the Vobiz host shares its breaker: ${JSON.stringify(held)}`,
  );
  assert.equal(
    vobiz.requests
      .slice(before)
      .filter((request) => request.path.includes("c-next") || request.path === "/hook").length,
    0,
    "nothing was sent to the Vobiz host while its breaker was open",
  );
});
