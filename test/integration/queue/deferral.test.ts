/**
 * A run deferred by an open circuit breaker spends no attempt: the lease keeps the deferrals in the job's
 * data and adds them to bull's attempts in memory. A forward allowed 2 attempts, whose destination's
 * breaker is open when the event arrives and which fails its first real attempt, still gets its second.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Redis } from "ioredis";
import { createBreakers } from "../../../server/actions/circuit-breaker.ts";
import { startHttpSink } from "../../helpers/http-sink.ts";
import { scratchRuleset } from "../../helpers/rules.ts";
import { startTestService } from "../../helpers/service.ts";
import { traceAction } from "../../helpers/traces.ts";
import { sendVobiz } from "../../helpers/vobiz.ts";

const sink = await startHttpSink((_, n) => (n === 1 ? { status: 500 } : {}));
const disk = await scratchRuleset({
  rules: {
    "flaky.json": {
      rules: [
        {
          id: "flaky",
          on: "Hangup",
          actions: [
            {
              type: "forward",
              url: `${sink.url}/flaky`,
              retry: { attempts: 2, backoff: "fixed", delay: "100ms" },
            },
          ],
        },
      ],
    },
  },
});
const service = await startTestService(import.meta.url, {
  RULES_DIR: disk.rulesDir,
  TEMPLATES_DIR: disk.templatesDir,
});
const redis = new Redis(service.redisUrl);
service.testRedis.onCleanup(async () => {
  await redis.quit();
});

test("runs deferred by an open breaker are not attempts: a forward allowed 2 attempts gets both", async () => {
  const breakers = createBreakers(redis, service.prefix);
  const host = new URL(sink.url).host;
  for (let i = 0; i < 10; i += 1) await breakers.record(host, false);
  assert.ok((await breakers.check(host)) > 0, "the breaker is open");

  const response = await sendVobiz(service.url, "/events", {
    Event: "Hangup",
    CallUUID: `defer-${process.pid}`,
  });
  const { id } = (await response.json()) as { id: string };
  const deadline = Date.now() + 30_000;
  let state = await traceAction(redis, service.prefix, id, "flaky");
  while (state?.state !== "delivered") {
    assert.ok(state?.state !== "dead_letter", `dead-lettered: ${JSON.stringify(state)}`);
    assert.ok(Date.now() < deadline, `not delivered: ${JSON.stringify(state)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    state = await traceAction(redis, service.prefix, id, "flaky");
  }
  const deferred = service.logs
    .lines()
    .filter((line) => line.msg === "circuit breaker open; delivery deferred" && line.eventId === id);
  assert.ok(deferred.length >= 1, "the first run was deferred");
  assert.equal(sink.requests.length, 2, "one failed attempt, then the second");
  assert.equal(state.attempt, 2);
  assert.deepEqual(
    (state.attempts as Array<{ attempt: string; status: number }>).map((a) => [a.attempt, a.status]),
    [
      ["1", 500],
      ["2", 200],
    ],
  );
});
