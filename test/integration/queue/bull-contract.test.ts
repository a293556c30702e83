/**
 * The claim and dispatch scripts store jobs with bull's own addJob code (server/queue/bull-add-job.ts). If
 * a bull upgrade changes how jobs are stored, this contract fails before anything else does.
 */
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { test } from "node:test";
import Bull from "bull";
import { Redis } from "ioredis";
import { bullAddJobFor, checkBullVersion } from "../../../server/queue/bull-add-job.ts";
import { EVENT_JOB_OPTIONS } from "../../../server/queue/bull-queues.ts";
import { completionArgs, keepJobsJson } from "../../../server/queue/delivery-runner.ts";
import { useTestRedis } from "../../helpers/redis.ts";

const { url, prefix, onCleanup } = useTestRedis(import.meta.url);
const redis = new Redis(url, { connectionName: `${prefix}:contract` });
const queue = new Bull("contract", url, {
  prefix,
  redis: { connectionName: `${prefix}:bull` },
  defaultJobOptions: EVENT_JOB_OPTIONS,
});
onCleanup(async () => {
  await queue.close();
  await redis.quit();
});

test("a job added through our script is stored exactly as queue.add stores it", async () => {
  const data = { id: "x", payload: { Event: "Hangup", From: "919876543210" } };
  await queue.add(data, { jobId: "via-bull" });
  const bull = bullAddJobFor(queue, "bullAddJob");
  const script = `${bull.lua}\nreturn bullAddJob({KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]}, ARGV[1], ARGV[2], ARGV[3], ARGV[4])`;
  const now = Date.now();
  const id = await redis.eval(
    script,
    6,
    ...bull.keys,
    "via-script",
    JSON.stringify(data),
    bull.optsWith({}, "via-script", now),
    now,
  );
  assert.equal(id, "via-script");

  const viaBull = await redis.hgetall(`${prefix}:contract:via-bull`);
  const viaScript = await redis.hgetall(`${prefix}:contract:via-script`);
  const { timestamp: t1, opts: o1, ...bullFields } = viaBull;
  const { timestamp: t2, opts: o2, ...scriptFields } = viaScript;
  assert.deepEqual(scriptFields, bullFields);
  assert.ok(Math.abs(Number(t1) - Number(t2)) < 60_000);
  const withoutIdentity = (opts: string | undefined): unknown => {
    const { jobId, timestamp, ...rest } = JSON.parse(opts ?? "{}") as Record<string, unknown>;
    assert.equal(typeof jobId, "string");
    assert.equal(typeof timestamp, "number");
    return rest;
  };
  assert.deepEqual(withoutIdentity(o2), withoutIdentity(o1));
  assert.deepEqual((await redis.lrange(`${prefix}:contract:wait`, 0, -1)).sort(), ["via-bull", "via-script"]);

  const job = await queue.getJob("via-script");
  assert.deepEqual(job?.data, data);
  assert.equal(job?.opts.attempts, EVENT_JOB_OPTIONS.attempts);
  assert.deepEqual(job?.opts.backoff, EVENT_JOB_OPTIONS.backoff);
});

test("options given per job (an action's attempts and backoff) are stored as queue.add stores them", async () => {
  const options = {
    attempts: 4,
    backoff: { type: "switchboard", options: { kind: "fixed", delayMs: 10 } },
    removeOnComplete: { age: 86_400, count: 10_000 },
  };
  const data = { id: "y" };
  await queue.add(data, { ...options, jobId: "opts-via-bull" });
  const bull = bullAddJobFor(queue, "bullAddJob");
  const script = `${bull.lua}\nreturn bullAddJob({KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]}, ARGV[1], ARGV[2], ARGV[3], ARGV[4])`;
  const now = Date.now();
  await redis.eval(
    script,
    6,
    ...bull.keys,
    "opts-via-script",
    JSON.stringify(data),
    bull.optsWith(options, "opts-via-script", now),
    now,
  );
  const viaBull = await queue.getJob("opts-via-bull");
  const viaScript = await queue.getJob("opts-via-script");
  const { jobId: id1, timestamp: t1, ...o1 } = viaBull?.opts as Record<string, unknown>;
  const { jobId: id2, timestamp: t2, ...o2 } = viaScript?.opts as Record<string, unknown>;
  assert.deepEqual([id1, id2], ["opts-via-bull", "opts-via-script"]);
  assert.equal(t2, now);
  assert.equal(typeof t1, "number");
  assert.deepEqual(o2, o1);
  assert.equal(o2.attempts, 4);
  assert.equal(bull.optsWith(options, "again", now), bull.optsWith(options, "again", now), "stable");
  const given = JSON.parse(bull.optsWith({ timestamp: 5 } as never, "t", now)) as Record<string, unknown>;
  assert.deepEqual([given.jobId, given.timestamp, given.attempts], ["t", 5, EVENT_JOB_OPTIONS.attempts]);
});

test("the start refuses a bull whose addJob script is not the one server/queue/ was written against", () => {
  assert.doesNotThrow(() => checkBullVersion()); // the installed (pinned) bull passes
  const script = createRequire(import.meta.url)("bull/lib/scripts/addJob-6.js") as {
    content: string;
    keys: number;
  };
  assert.throws(() => checkBullVersion("4.17.0", script), /bull 4\.17\.0 is installed.*server\/queue\//);
  const changed = { ...script, content: script.content.replace("HMSET", "HSET") };
  assert.throws(() => checkBullVersion("4.16.5", changed), /addJob-6/);
});

test("a completion sends what bull's own moveToFinished would, the keep-jobs option as JSON packed in Lua", async () => {
  const bullScripts = createRequire(import.meta.url)("bull/lib/scripts.js") as {
    moveToFinishedArgs(job: unknown, ...rest: unknown[]): unknown[];
  };
  const job = {
    id: "probe",
    finishedOn: 1,
    opts: { removeOnComplete: true },
    data: { event: { id: "evt" } },
    queue,
  };
  const ours = completionArgs(job as never, { key: "trace-key", text: "\nline" });
  const theirs = bullScripts.moveToFinishedArgs(
    job,
    undefined,
    "returnvalue",
    true,
    "completed",
    false,
    true,
  );
  // keys 1-9, then the trace's key; arguments 1-12 (the keep-jobs option aside), then the trace's text
  assert.deepEqual(ours.slice(0, 9), theirs.slice(0, 9));
  assert.equal(ours[9], "trace-key");
  assert.deepEqual(
    [...ours.slice(10, 15), ...ours.slice(16, 22)],
    [...theirs.slice(9, 14), ...theirs.slice(15)],
  );
  assert.equal(ours[22], "\nline");
  // the keep-jobs option as bull's script reads it (count, age): from bull's bytes and from our JSON
  const read = `local function read(k) return {tostring(k.count), tostring(k.age)} end
return {read(cmsgpack.unpack(ARGV[1])), read(cmsgpack.unpack(cmsgpack.pack(cjson.decode(ARGV[2]))))}`;
  for (const keep of [true, false, undefined, 7, { age: 1 }, { count: 3 }, { age: 86_400, count: 10 }]) {
    const packed = bullScripts.moveToFinishedArgs(
      job,
      undefined,
      "returnvalue",
      keep,
      "completed",
      false,
      true,
    )[14];
    assert.ok(Buffer.isBuffer(packed));
    const [fromBull, fromOurs] = (await redis.eval(read, 0, packed, keepJobsJson(keep))) as string[][];
    assert.deepEqual(fromOurs, fromBull, `removeOnComplete ${JSON.stringify(keep)}`);
  }
});
