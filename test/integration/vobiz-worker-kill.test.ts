/**
 * At most once when a worker is killed (issue 15): a worker process runs a vobiz action and stops at a
 * given point (SWITCHBOARD_TEST_VOBIZ_PAUSE, a test hook that logs a marker and waits); the test waits for
 * the marker, kills it with SIGKILL, and a second worker takes the job over once its lock runs out.
 * - killed between claiming the ledger and sending: nothing reached Vobiz, so the second worker sends it:
 *   exactly one request, and the trace says an earlier run stopped before sending;
 * - killed between sending and recording: the request reached Vobiz but nobody knows what it did, so the
 *   second worker does not send it again: at most one request, and the trace says `unknown`.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Redis } from "ioredis";
import { FAKE_AUTH_ID, startFakeVobiz } from "../helpers/fake-vobiz.ts";
import { isRunning, startMainProcess, type RunningProcess } from "../helpers/process.ts";
import { scratchRuleset } from "../helpers/rules.ts";
import { TEST_AUTH_TOKEN, TEST_PUBLIC_URL, startTestService } from "../helpers/service.ts";
import { rawTrace } from "../helpers/traces.ts";
import { sendVobiz } from "../helpers/vobiz.ts";

const vobiz = await startFakeVobiz(TEST_AUTH_TOKEN);
const disk = await scratchRuleset({
  rules: {
    "fraud.json": {
      rules: [
        {
          id: "hang-up-fraud",
          on: "StartApp",
          when: { "==": [{ var: "Fraud" }, "yes"] },
          actions: [{ type: "vobiz", vobiz: "hangup" }],
        },
      ],
    },
  },
});
// the web role only: every action runs in the worker processes this test starts and kills
const web = await startTestService(import.meta.url, {
  ROLE: "web",
  LOG_LEVEL: "warn",
  RULES_DIR: disk.rulesDir,
  TEMPLATES_DIR: disk.templatesDir,
});
const redis = new Redis(web.redisUrl);
test.after(() => redis.quit());

function startWorker(pause?: "claimed" | "sent"): RunningProcess {
  return startMainProcess({
    ROLE: "worker",
    REDIS_URL: web.redisUrl,
    REDIS_PREFIX: web.prefix,
    JOB_LOCK_TIMEOUT: "1s",
    LOG_LEVEL: "warn",
    PUBLIC_URL: TEST_PUBLIC_URL,
    RULES_DIR: disk.rulesDir,
    TEMPLATES_DIR: disk.templatesDir,
    VOBIZ_AUTH_ID: FAKE_AUTH_ID,
    VOBIZ_AUTH_TOKEN: TEST_AUTH_TOKEN,
    VOBIZ_API_URL: vobiz.url,
    ...(pause === undefined ? {} : { SWITCHBOARD_TEST_VOBIZ_PAUSE: pause }),
  });
}

async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function stop(worker: RunningProcess, signal: NodeJS.Signals): Promise<void> {
  if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill(signal);
  await worker.exited;
  assert.ok(worker.child.pid !== undefined && !isRunning(worker.child.pid));
}

async function killedAt(pause: "claimed" | "sent", callUuid: string): Promise<Record<string, unknown>> {
  const response = await sendVobiz(web.url, "/events", {
    Event: "StartApp",
    CallUUID: callUuid,
    Fraud: "yes",
  });
  assert.equal(response.status, 200);
  const { id: eventId } = (await response.json()) as { id: string };
  const first = startWorker(pause);
  try {
    await until(`the worker's "${pause}" marker`, () =>
      first.output().includes(`vobiz test pause: ${pause}`) ? true : undefined,
    );
  } catch (error) {
    await stop(first, "SIGKILL");
    throw new Error(`${(error as Error).message}\n${first.output()}`);
  }
  await stop(first, "SIGKILL");
  const second = startWorker();
  try {
    return await until("the action's final state", async () => {
      const state = (await rawTrace(redis, web.prefix, eventId))["a:hang-up-fraud:0"] as
        Record<string, unknown> | undefined;
      return state !== undefined && ["delivered", "unknown", "dead_letter"].includes(String(state.state))
        ? state
        : undefined;
    });
  } finally {
    await stop(second, "SIGTERM");
  }
}

test("kill -9 between claiming and sending: the next worker sends it, exactly once", async () => {
  const state = await killedAt("claimed", "kill-claimed");
  assert.equal(state.state, "delivered", JSON.stringify(state));
  assert.match(String(state.takenOver), /stopped before sending/);
  const sent = vobiz.requests.filter((r) => r.path === `/api/v1/Account/${FAKE_AUTH_ID}/Call/kill-claimed/`);
  assert.equal(sent.length, 1);
});

test("kill -9 between sending and recording: not sent again; the trace says the outcome is unknown", async () => {
  const state = await killedAt("sent", "kill-sent");
  assert.equal(state.state, "unknown", JSON.stringify(state));
  assert.match(String(state.reason), /may or may not have reached Vobiz/);
  const sent = vobiz.requests.filter((r) => r.path === `/api/v1/Account/${FAKE_AUTH_ID}/Call/kill-sent/`);
  assert.equal(sent.length, 1, "the one request the killed worker sent; none after it");
});
