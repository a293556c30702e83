/**
 * One stuck Vobiz request never delays forwards (issue 15): vobiz actions run on slots of their own
 * (VOBIZ_CONCURRENCY), apart from ACTION_CONCURRENCY's. With one slot of each, a Vobiz request that hangs
 * holds the vobiz slot; forwards of later events are delivered while it still hangs.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Redis } from "ioredis";
import { FAKE_AUTH_ID, startFakeVobiz } from "../helpers/fake-vobiz.ts";
import { startHttpSink } from "../helpers/http-sink.ts";
import { scratchRuleset } from "../helpers/rules.ts";
import { TEST_AUTH_TOKEN, startTestService } from "../helpers/service.ts";
import { rawTrace } from "../helpers/traces.ts";
import { sendVobiz } from "../helpers/vobiz.ts";

const vobiz = await startFakeVobiz(TEST_AUTH_TOKEN);
const sink = await startHttpSink();
const disk = await scratchRuleset({
  rules: {
    "both.json": {
      rules: [
        {
          id: "fraud",
          on: "Hangup",
          when: { "==": [{ var: "Fraud" }, "yes"] },
          actions: [{ type: "vobiz", vobiz: "hangup" }],
        },
        {
          id: "crm",
          on: "Hangup",
          when: { "!=": [{ var: "Fraud" }, "yes"] },
          actions: [{ type: "forward", url: `${sink.url}/crm` }],
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
  VOBIZ_TIMEOUT: "2m",
  ACTION_CONCURRENCY: "1",
  VOBIZ_CONCURRENCY: "1",
  LOG_LEVEL: "warn",
});
const redis = new Redis(service.redisUrl);
test.after(() => redis.quit());

test("a Vobiz request that hangs does not hold up forwards", async () => {
  vobiz.script(/^DELETE .*\/Call\/stuck\/$/, ["hang"]);
  const stuck = await sendVobiz(service.url, "/events", { Event: "Hangup", Fraud: "yes", CallUUID: "stuck" });
  const { id } = (await stuck.json()) as { id: string };
  const [hanging] = await vobiz.waitFor(/^DELETE .*\/Call\/stuck\/$/);
  assert.equal(hanging?.answered, "hang");

  for (let i = 0; i < 5; i += 1)
    assert.equal(
      (await sendVobiz(service.url, "/events", { Event: "Hangup", CallUUID: `ok-${i}` })).status,
      200,
    );
  await sink.waitFor(5, 60_000);
  // the Vobiz request is still unanswered: the forwards did not wait for it
  const state = (await rawTrace(redis, service.prefix, id))["a:fraud:0"] as { state?: string } | undefined;
  assert.equal(state, undefined, `the vobiz action is still in flight: ${JSON.stringify(state)}`);
  assert.equal(await redis.hget(`${service.prefix}:vobiz:ledger:${id}:fraud:0`, "state"), "sending");
  await vobiz.close(); // ends the hanging request, so the service can shut down
});
