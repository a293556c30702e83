/**
 * A retried event job keeps the ruleset version it was decided under (SPEC §4.5): its decision and its
 * action jobs were recorded together, so a retry after a reload changes neither.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import Bull, { type Job } from "bull";
import { Redis } from "ioredis";
import { createCallStore } from "../../server/calls/call-store.ts";
import { tracedEvent } from "../../server/events/trace-store.ts";
import { createLogger } from "../../server/logger.ts";
import { createMetrics } from "../../server/metrics.ts";
import { QUEUE_NAMES, type ActionJobData, type EventJobData } from "../../server/queue/job-types.ts";
import { loadRuleset, type LoadedRuleset } from "../../server/rules/load-ruleset.ts";
import { RuleRegistry } from "../../server/rules/rule-registry.ts";
import { createDispatch } from "../../server/workers/dispatch-event.ts";
import { createEventProcessor } from "../../server/workers/process-event.ts";
import { startHttpSink } from "../helpers/http-sink.ts";
import { TEST_CONTEXT, scratchRuleset } from "../helpers/rules.ts";
import { startTestService } from "../helpers/service.ts";
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
const actions = new Bull<ActionJobData>(QUEUE_NAMES.actions, {
  redis: service.redisUrl,
  prefix: service.prefix,
});
service.testRedis.onCleanup(async () => {
  await actions.close();
  redis.disconnect();
});

test("a retry after a reload reuses the decision, the version and the action jobs of the first attempt", async () => {
  const response = await sendVobiz(service.url, "/events", {
    Event: "Hangup",
    CallUUID: `c-${process.pid}`,
    From: "919876543210",
  });
  const { id } = (await response.json()) as { id: string };
  await sink.waitFor(1);
  const first = await redis.hgetall(`${service.prefix}:trace:${id}`);
  const v1 = (JSON.parse(first.ruleset ?? "{}") as { hash: string }).hash;

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

  const processEvent = createEventProcessor({
    registry,
    dispatch: createDispatch(actions, service.prefix),
    context: TEST_CONTEXT,
    metrics: createMetrics(),
    calls: createCallStore(redis, service.prefix, 60_000),
    log: createLogger({ level: "silent" }),
  });
  const retry = {
    id: "retry",
    data: tracedEvent(first) as EventJobData,
    attemptsMade: 1,
    opts: { attempts: 10 },
  } as unknown as Job<EventJobData>;
  await processEvent(retry);

  const after = await redis.hgetall(`${service.prefix}:trace:${id}`);
  assert.equal(
    (JSON.parse(after.ruleset ?? "{}") as { hash: string }).hash,
    v1,
    "the trace keeps the first version",
  );
  const job = await actions.getJob(`${id}:crm:0`);
  assert.equal(job?.data.ruleset.hash, v1);
  assert.equal((job?.data.action as { url?: string }).url, `${sink.url}/v1`);
  assert.equal(await actions.getJobCountByTypes(["waiting", "delayed", "active"]), 0, "no new action job");
});
