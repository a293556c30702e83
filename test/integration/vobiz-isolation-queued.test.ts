/**
 * One stuck Vobiz request never delays forwards, for jobs a worker takes from the queue too (issue 15):
 * bull's concurrency there is ACTION_CONCURRENCY + VOBIZ_CONCURRENCY together, so a vobiz job that finds
 * every vobiz slot busy steps aside (deferred, no attempt spent) instead of holding a place a forward
 * needs. A ROLE=web service stores the events; a ROLE=worker process with one slot of each delivers.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { FAKE_AUTH_ID, startFakeVobiz } from "../helpers/fake-vobiz.ts";
import { startHttpSink } from "../helpers/http-sink.ts";
import { startMainProcess, waitForStatus } from "../helpers/process.ts";
import { scratchRuleset } from "../helpers/rules.ts";
import { startTestService, TEST_AUTH_TOKEN, TEST_PUBLIC_URL } from "../helpers/service.ts";
import { sendVobiz } from "../helpers/vobiz.ts";
import { findFreePort } from "../../server/redis/find-free-port.ts";

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
const web = await startTestService(import.meta.url, {
  ROLE: "web",
  LOG_LEVEL: "warn",
  RULES_DIR: disk.rulesDir,
  TEMPLATES_DIR: disk.templatesDir,
});

test("hanging Vobiz requests, more than the vobiz slots, do not hold up forwards taken from the queue", async () => {
  vobiz.script(/^DELETE .*\/Call\/stuck-\d\/$/, ["hang", "hang", "hang", "hang"]);
  // three hanging hangups queued first: one takes the only vobiz slot, the others must step aside
  for (let i = 0; i < 3; i += 1) {
    const stored = await sendVobiz(web.url, "/events", {
      Event: "Hangup",
      Fraud: "yes",
      CallUUID: `stuck-${i}`,
    });
    assert.equal(stored.status, 200);
  }
  for (let i = 0; i < 5; i += 1) {
    const stored = await sendVobiz(web.url, "/events", { Event: "Hangup", CallUUID: `ok-${i}` });
    assert.equal(stored.status, 200);
  }
  const port = await findFreePort();
  const worker = startMainProcess({
    ROLE: "worker",
    PORT: String(port),
    HOST: "127.0.0.1",
    PUBLIC_URL: TEST_PUBLIC_URL,
    REDIS_URL: web.redisUrl,
    REDIS_PREFIX: web.prefix,
    VOBIZ_AUTH_TOKEN: TEST_AUTH_TOKEN,
    VOBIZ_AUTH_ID: FAKE_AUTH_ID,
    VOBIZ_API_URL: vobiz.url,
    VOBIZ_TIMEOUT: "2m",
    RULES_DIR: disk.rulesDir,
    TEMPLATES_DIR: disk.templatesDir,
    ACTION_CONCURRENCY: "1",
    VOBIZ_CONCURRENCY: "1",
    LOG_LEVEL: "warn",
  });
  try {
    await waitForStatus(`http://127.0.0.1:${port}/ready`, 200);
    const [hanging] = await vobiz.waitFor(/^DELETE .*\/Call\/stuck-\d\/$/);
    assert.equal(hanging?.answered, "hang");
    // every forward arrives while a Vobiz request still hangs
    await sink.waitFor(5, 90_000);
    assert.equal(
      vobiz.requests.filter((request) => /\/Call\/stuck-\d\/$/.test(request.path)).length,
      1,
      "one Vobiz request at a time (VOBIZ_CONCURRENCY=1); the others waited aside",
    );
  } finally {
    worker.child.kill("SIGKILL"); // a Vobiz request hangs: no need to wait for the shutdown
    await worker.exited;
    await vobiz.close();
  }
});
