/**
 * Bull's own "add a job" step, usable inside our ingest script, so that claiming a delivery and storing its
 * job take one Redis round trip. The Lua is bull's resolved addJob-6 script wrapped as a function
 * `bullAddJob(KEYS, jobId, data, opts, timestamp)`; the arguments bull's scripts.addJob would send are
 * rebuilt inside it, the ones that never change for a queue (key prefix, queue token, FIFO, no delay, no
 * priority, no debounce) written into the script text. The one change to bull's Lua: it reads the opts
 * JSON as is instead of unpacking it from msgpack (bull packs that same JSON string). Going through bull's
 * Job class instead (lodash binds, a deep clone, msgpack into a Buffer, 14 arguments on the wire) cost a
 * sixth of a request's CPU. bull is pinned to an exact version; test/integration/bull-add-job.test.ts
 * checks that a job added this way is stored as queue.add stores it.
 */
import { createRequire } from "node:module";
import type Bull from "bull";

const require = createRequire(import.meta.url);
const addJobScript = require("bull/lib/scripts/addJob-6.js") as { content: string; keys: number };
const backoffs = require("bull/lib/backoffs.js") as { normalize(backoff: unknown): unknown };

const UNPACK_OPTS = "local opts = cmsgpack.unpack(ARGV[5])";
if (!addJobScript.content.includes(UNPACK_OPTS) || addJobScript.keys !== 6) {
  throw new Error(
    `bull's addJob script changed; check server/queue/bull-add-job.ts against bull's scripts.addJob`,
  );
}

interface QueueInternals {
  keys: Record<string, string>;
  token: string;
  defaultJobOptions: Bull.JobOptions | undefined;
}

export interface BullAddJob {
  /** Lua source defining `<name>(KEYS, jobId, data, opts, timestamp)` (default `bullAddJob`) for this queue */
  lua: string;
  /** bull's six addJob keys for this queue, to declare as the script's keys */
  keys: string[];
  /** the opts JSON bull would store for a job with the queue's default options */
  opts(jobId: string, timestamp: number): string;
  /** the opts JSON bull's queue.add(data, options) would store (its setDefaultOpts, replayed) */
  optsWith(options: Bull.JobOptions, jobId: string, timestamp: number): string;
}

function luaString(value: string): string {
  if (!/^[\w{}:.@-]*$/.test(value)) throw new Error(`unexpected characters in ${JSON.stringify(value)}`);
  return `"${value}"`;
}

export function bullAddJobFor(queue: Bull.Queue, name = "bullAddJob"): BullAddJob {
  if (!/^[A-Za-z]\w*$/.test(name)) throw new Error(`not a Lua function name: ${name}`);
  const { keys: queueKeys, token } = queue as unknown as QueueInternals;
  const defaults = (queue as unknown as QueueInternals).defaultJobOptions ?? {};
  const prefix = queueKeys[""] ?? "";
  const heads = new WeakMap<Bull.JobOptions, string | null>();
  /** bull's setDefaultOpts, less the timestamp */
  const withDefaults = (options: Bull.JobOptions): Record<string, unknown> => {
    const opts: Record<string, unknown> = { ...defaults, ...options };
    opts.attempts = Math.trunc(Number(opts.attempts ?? 1)); // bull: parseInt of a number
    opts.delay = Number(opts.delay ?? 0);
    opts.backoff = backoffs.normalize(opts.backoff);
    return opts;
  };
  const optsHead = JSON.stringify({ ...defaults, attempts: defaults.attempts ?? 1 }).slice(0, -1);
  return {
    lua: [
      `local function ${name}(KEYS, jobId, data, opts, timestamp)`,
      `  local ARGV = {${luaString(prefix)}, jobId, "__default__", data, opts, timestamp, "0", "0", "0", "LPUSH", ${luaString(token)}, "", "", ""}`,
      addJobScript.content.replace(UNPACK_OPTS, "local opts = ARGV[5]"),
      "end",
    ].join("\n"),
    keys: ["wait", "paused", "meta-paused", "id", "delayed", "priority"].map((name) => queueKeys[name] ?? ""),
    opts: (jobId, timestamp) =>
      `${optsHead},"jobId":${JSON.stringify(jobId)},"delay":0,"timestamp":${timestamp}}`,
    optsWith(options, jobId, timestamp) {
      // the options objects come from a few compiled actions: their JSON, less the job's own keys, is kept
      let head = heads.get(options);
      if (head === undefined) {
        const opts = withDefaults(options);
        head = "jobId" in opts || "timestamp" in opts ? null : JSON.stringify(opts).slice(0, -1);
        heads.set(options, head);
      }
      if (head !== null) return `${head},"jobId":${JSON.stringify(jobId)},"timestamp":${timestamp}}`;
      const opts = withDefaults(options);
      opts.jobId = jobId;
      opts.timestamp ??= timestamp;
      return JSON.stringify(opts);
    },
  };
}
