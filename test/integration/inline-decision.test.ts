/**
 * With ROLE=all the process that receives an event also decides it: the store script records the decision
 * and adds the action jobs in the same round trip, with no event job. An event of a call placed through
 * Switchboard (`?call=`) still goes through an event job, which reads the call's callback settings.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Redis } from "ioredis";
import { startHttpSink } from "../helpers/http-sink.ts";
import { scratchRuleset } from "../helpers/rules.ts";
import { startTestService } from "../helpers/service.ts";
import { readTrace } from "../helpers/traces.ts";
import { sendVobiz } from "../helpers/vobiz.ts";

const sink = await startHttpSink();
const disk = await scratchRuleset({
  rules: {
    "crm.json": {
      rules: [
        {
          id: "crm",
          on: "Hangup",
          actions: [{ type: "forward", url: `${sink.url}/crm?caller=<<caller_e164>>` }],
        },
      ],
    },
  },
});
const service = await startTestService(import.meta.url, {
  ROLE: "all",
  RULES_DIR: disk.rulesDir,
  TEMPLATES_DIR: disk.templatesDir,
});
const redis = new Redis(service.redisUrl);
service.testRedis.onCleanup(() => {
  redis.disconnect();
  return Promise.resolve();
});
const eventJobsAdded = async (): Promise<number> =>
  Number((await redis.get(`${service.prefix}:events:id`)) ?? 0);

test("an event is decided in the request path: the 200 leaves with its decision and action job stored, and no event job", async () => {
  const before = await eventJobsAdded();
  const response = await sendVobiz(service.url, "/events", {
    Event: "Hangup",
    CallUUID: `inline-${process.pid}`,
    From: "919876543210",
  });
  assert.equal(response.status, 200);
  const { id } = (await response.json()) as { id: string };
  const trace = await readTrace(redis, service.prefix, id);
  assert.equal(trace.state, "dispatched", "decided before the 200 left");
  assert.deepEqual(
    (trace.matches as Array<{ id: string }>).map((rule) => rule.id),
    ["crm"],
  );
  assert.deepEqual(
    trace.actions.map(({ job, rule, index, type }) => ({ job, rule, index, type })),
    [{ job: `${id}:crm:0`, rule: "crm", index: 0, type: "forward" }],
  );
  assert.equal(typeof (trace.ruleset as { hash?: unknown }).hash, "string");
  assert.equal(await eventJobsAdded(), before, "no event job was added");

  const [delivered] = await sink.waitFor(1);
  assert.equal(delivered?.url, "/crm?caller=%2B919876543210");
  // one line says the event arrived and what it matched
  const logged = service.logs.lines().find((line) => line.msg === "event received" && line.eventId === id);
  assert.equal(logged?.decided, "in the request path");
  assert.deepEqual(logged?.matched, ["crm"]);
  assert.equal(logged?.actions, 1);
  assert.equal(
    service.logs.lines().some((line) => line.msg === "event evaluated" && line.eventId === id),
    false,
  );
});

test("an event of a call placed through Switchboard is decided by an event job", async () => {
  const before = await eventJobsAdded();
  const response = await sendVobiz(service.url, "/events?call=call-1", {
    Event: "Hangup",
    CallUUID: `inline-call-${process.pid}`,
    From: "919876543210",
  });
  assert.equal(response.status, 200);
  const { id } = (await response.json()) as { id: string };
  assert.equal(await eventJobsAdded(), before + 1, "an event job was added");
  await sink.waitFor(2);
  const logged = service.logs.lines().find((line) => line.msg === "event evaluated" && line.eventId === id);
  assert.equal(logged?.decided, undefined);
  assert.equal(typeof logged?.jobId, "string");
});
