/**
 * A worker killed at any instant loses nothing: kill -9 a worker process while it has active jobs; another
 * worker takes them over once their lock runs out, and every stored event is processed.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Redis } from "ioredis";
import { FIXTURES, startTestService } from "../helpers/service.ts";
import { isRunning, startMainProcess, type RunningProcess } from "../helpers/process.ts";
import { isDecided } from "../helpers/traces.ts";
import { sendVobiz } from "../helpers/vobiz.ts";
import path from "node:path";

const web = await startTestService(import.meta.url, { ROLE: "web", LOG_LEVEL: "warn" });
const redis = new Redis(web.redisUrl);
test.after(() => redis.quit());

function startWorker(): RunningProcess {
  return startMainProcess({
    ROLE: "worker",
    // a worker serves /health, /ready and /metrics on PORT too: a free port each
    PORT: "0",
    HOST: "127.0.0.1",
    REDIS_URL: web.redisUrl,
    REDIS_PREFIX: web.prefix,
    JOB_LOCK_TIMEOUT: "1s",
    WORKER_CONCURRENCY: "50",
    LOG_LEVEL: "warn",
    RULES_DIR: path.join(FIXTURES, "rules", "empty"),
  });
}

test("kill -9 during processing: a second worker finishes every event", async () => {
  const ids: string[] = [];
  for (let batch = 0; batch < 20; batch += 1) {
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        sendVobiz(web.url, "/events", { Event: "Hangup", CallUUID: `kill-${batch}-${i}` }),
      ),
    );
    for (const response of responses) ids.push(((await response.json()) as { id: string }).id);
  }
  assert.equal(new Set(ids).size, 1000);
  const active = `${web.prefix}:events:active`;

  const first = startWorker();
  const deadline = Date.now() + 30_000;
  while ((await redis.llen(active)) === 0) {
    assert.ok(Date.now() < deadline, `the first worker never took a job: ${first.output()}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
  first.child.kill("SIGKILL");
  await first.exited;
  assert.ok((await redis.llen(active)) > 0, "jobs were in flight when the worker died");

  const second = startWorker();
  try {
    const processedBy = Date.now() + 60_000;
    let remaining = ids;
    let inFlight = 1;
    // finished = every event dispatched and no job left active: a job the first worker dispatched but
    // never completed is taken over once its lock runs out, finds its decision recorded, and completes
    while (remaining.length > 0 || inFlight > 0) {
      assert.ok(
        Date.now() < processedBy,
        `${remaining.length} events never processed, ${inFlight} jobs still active`,
      );
      const states = await Promise.all(remaining.map((id) => isDecided(redis, web.prefix, id)));
      remaining = remaining.filter((_, i) => !states[i]);
      inFlight = await redis.llen(active);
      if (remaining.length > 0 || inFlight > 0) await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    second.child.kill("SIGTERM");
    const { code } = await second.exited;
    assert.equal(code, 0, second.output());
    assert.ok(second.child.pid !== undefined && !isRunning(second.child.pid));
  }
});
