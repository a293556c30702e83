/**
 * Every process is observable (issue 17 item 5): a ROLE=worker process serves /health, /ready and
 * /metrics on PORT, and its /metrics reports the jobs that wait for it (switchboard_queue_depth), the
 * Node process metrics under their standard names and switchboard_build_info.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { findFreePort } from "../../server/redis/find-free-port.ts";
import { startHttpSink } from "../helpers/http-sink.ts";
import { startMainProcess, waitForStatus } from "../helpers/process.ts";
import { scratchRuleset } from "../helpers/rules.ts";
import { startTestService, TEST_AUTH_TOKEN, TEST_PUBLIC_URL } from "../helpers/service.ts";
import { sendVobiz } from "../helpers/vobiz.ts";

// the destination holds every request: with ACTION_CONCURRENCY=1 one delivery is active, the rest wait
const sink = await startHttpSink(() => ({ delayMs: 60_000 }));
const disk = await scratchRuleset({
  rules: {
    "hold.json": {
      rules: [
        {
          id: "hold",
          on: "Hangup",
          actions: [{ type: "forward", url: `${sink.url}/hold`, timeout: "60s", retry: { attempts: 1 } }],
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

/** the value of one sample line of a Prometheus text exposition, or undefined */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`))) continue;
    return Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return undefined;
}

test("a worker process answers /health, /ready and /metrics, with the jobs that wait for it", async () => {
  const port = await findFreePort();
  const worker = startMainProcess({
    ROLE: "worker",
    PORT: String(port),
    HOST: "127.0.0.1",
    PUBLIC_URL: TEST_PUBLIC_URL,
    REDIS_URL: web.redisUrl,
    REDIS_PREFIX: web.prefix,
    VOBIZ_AUTH_TOKEN: TEST_AUTH_TOKEN,
    RULES_DIR: disk.rulesDir,
    TEMPLATES_DIR: disk.templatesDir,
    ACTION_CONCURRENCY: "1",
    VOBIZ_CONCURRENCY: "1",
    BUILD_COMMIT: "0123456789abcdef0123456789abcdef01234567",
    LOG_LEVEL: "warn",
  });
  const base = `http://127.0.0.1:${port}`;
  try {
    const ready = await waitForStatus(`${base}/ready`, 200);
    assert.equal(((await ready.json()) as { status: string }).status, "ready");
    assert.deepEqual(await (await fetch(`${base}/health`)).json(), { status: "ok" });
    // only the operational routes: the worker has no /events front door
    assert.equal((await fetch(`${base}/events`, { method: "POST" })).status, 404);

    for (let i = 0; i < 5; i += 1) {
      const response = await sendVobiz(web.url, "/events", { Event: "Hangup", CallUUID: `held-${i}` });
      assert.equal(response.status, 200);
    }
    await sink.waitFor(1, 30_000); // the worker took one delivery; the others wait behind it

    const deadline = Date.now() + 30_000;
    let text = "";
    let waiting: number | undefined;
    while (Date.now() < deadline) {
      const response = await fetch(`${base}/metrics`);
      assert.equal(response.status, 200);
      text = await response.text();
      waiting = sample(text, "switchboard_queue_depth", { state: "waiting", queue: "actions" });
      if (waiting !== undefined && waiting > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(waiting !== undefined && waiting > 0, `actions waiting in the worker's /metrics:\n${text}`);
    // bull's concurrency is ACTION_CONCURRENCY + VOBIZ_CONCURRENCY: one forward delivering, at most one
    // more held for the forward slot; the rest wait in the queue
    const active = sample(text, "switchboard_queue_depth", { state: "active", queue: "actions" }) ?? 0;
    assert.ok(active >= 1 && active <= 2, `actions active: ${active}`);
    // the Node process metrics under their standard names, not prefixed
    assert.ok((sample(text, "process_cpu_seconds_total") ?? 0) > 0);
    assert.ok(sample(text, "nodejs_eventloop_lag_seconds") !== undefined);
    assert.doesNotMatch(text, /switchboard_process_/);
    assert.equal(
      sample(text, "switchboard_build_info", { commit: "0123456789abcdef0123456789abcdef01234567" }),
      1,
    );
  } finally {
    worker.child.kill("SIGKILL"); // its delivery is held: no need to wait for the shutdown to give up on it
    await worker.exited;
  }
});
