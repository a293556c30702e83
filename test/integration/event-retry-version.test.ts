/**
 * A retried event job keeps the ruleset version it was decided under (SPEC §4.5): its decision and its
 * action jobs were recorded together, so a retry after a reload changes neither.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Redis } from "ioredis";
import { createCallStore } from "../../server/calls/call-store.ts";
import { createEventJob } from "../../server/events/event-job.ts";
import { tracedEvent } from "../../server/events/trace-store.ts";
import { createLogger } from "../../server/logger.ts";
import { createMetrics } from "../../server/metrics.ts";
import { createEventQueue } from "../../server/queue/event-queue.ts";
import { createRedisConnections } from "../../server/redis/redis-connections.ts";
import { loadRuleset, type LoadedRuleset } from "../../server/rules/load-ruleset.ts";
import { RuleRegistry } from "../../server/rules/rule-registry.ts";
import { startHttpSink } from "../helpers/http-sink.ts";
import { TEST_CONTEXT, scratchRuleset } from "../helpers/rules.ts";
import { startTestService } from "../helpers/service.ts";
import { rawTrace, readTrace } from "../helpers/traces.ts";
import { sendVobiz } from "../helpers/vobiz.ts";

const sink = await startHttpSink();
const ruleFile = (version: string): unknown => ({
  rules: [{ id: "crm", on: "Hangup", actions: [{ type: "forward", url: `${sink.url}/${version}` }] }],
});
const disk = await scratchRuleset({ rules: { "crm.json": ruleFile("v1") } });
const service = await startTestService(import.meta.url, {
  RULES_DIR: disk.rulesDir,
  TEMPLATES_DIR: disk.templatesDir,
});
const redis = new Redis(service.redisUrl);
const log = createLogger({ level: "silent" });
const connections = createRedisConnections(service.redisUrl, log, `${service.prefix}:retry-test`);
const queue = createEventQueue(connections, {
  prefix: service.prefix,
  consume: false,
  lockMs: 30_000,
  actionConcurrency: 1,
  retentionMs: 60_000,
  log,
});
service.testRedis.onCleanup(async () => {
  await queue.close();
  await connections.close();
  redis.disconnect();
});
const rulesetOf = async (id: string): Promise<string | undefined> =>
  ((await readTrace(redis, service.prefix, id)).ruleset as { hash: string } | null)?.hash;

test("a retry after a reload reuses the decision, the version and the action jobs of the first attempt", async () => {
  const response = await sendVobiz(service.url, "/events", {
    Event: "Hangup",
    CallUUID: `c-${process.pid}`,
    From: "919876543210",
  });
  const { id } = (await response.json()) as { id: string };
  await sink.waitFor(1);
  const first = await rawTrace(redis, service.prefix, id);
  const v1 = await rulesetOf(id);
  assert.equal(typeof v1, "string");

  await disk.write("rules/crm.json", ruleFile("v2"));
  const loaded = await loadRuleset({
    rulesDir: disk.rulesDir,
    templatesDir: disk.templatesDir,
    context: TEST_CONTEXT,
  });
  assert.ok(loaded.loaded && loaded.version);
  assert.notEqual(loaded.version.hash, v1);
  const registry = new RuleRegistry<LoadedRuleset>();
  registry.swap(loaded.loaded, loaded.version);

  const eventJob = createEventJob({
    registry,
    queue,
    context: TEST_CONTEXT,
    calls: createCallStore(redis, service.prefix, 60_000),
    prefix: service.prefix,
    metrics: createMetrics(),
    log,
  });
  await eventJob(tracedEvent(first), { made: 1, of: 10, jobId: "retry" });

  assert.equal(await rulesetOf(id), v1, "the trace keeps the first version");
  // no action job was added again: nothing waits, and the destination only ever heard of v1
  const pending = await Promise.all(
    ["wait", "active"].map((list) => redis.llen(`${service.prefix}:actions:${list}`)),
  );
  assert.deepEqual(pending, [0, 0]);
  assert.equal(await redis.zcard(`${service.prefix}:actions:delayed`), 0);
  assert.equal(await redis.exists(`${service.prefix}:actions:${id}:crm:0`), 0);
  assert.deepEqual(
    sink.requests.map((request) => request.url),
    ["/v1"],
  );
});
