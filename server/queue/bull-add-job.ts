/**
 * Bull's own "add a job" step, usable inside our ingest script, so that claiming a delivery and storing its
 * job take one Redis round trip. The Lua is bull's resolved addJob-6 script, wrapped as a function; its
 * arguments are the ones bull's scripts.addJob sends, built here directly because going through bull's Job
 * class (lodash binds, a deep clone, msgpack into a Buffer that switches ioredis into its slow Buffer path)
 * cost a sixth of a request's CPU. The one change to bull's Lua: it reads the opts JSON as is instead of
 * unpacking it from msgpack (bull packs the same JSON string). bull is pinned to an exact version;
 * test/integration/bull-add-job.test.ts checks that a job added this way is stored as queue.add stores it.
 */
import { createRequire } from "node:module";
import type Bull from "bull";

const require = createRequire(import.meta.url);
const addJobScript = require("bull/lib/scripts/addJob-6.js") as { content: string; keys: number };

const UNPACK_OPTS = "local opts = cmsgpack.unpack(ARGV[5])";
if (!addJobScript.content.includes(UNPACK_OPTS)) {
  throw new Error(`bull's addJob script changed (no "${UNPACK_OPTS}"); check server/queue/bull-add-job.ts`);
}

/** Bull's addJob script as a Lua function `bullAddJob(KEYS, ARGV)` to paste into another script. */
export const BULL_ADD_JOB_FUNCTION = `local function bullAddJob(KEYS, ARGV)\n${addJobScript.content.replace(
  UNPACK_OPTS,
  "local opts = ARGV[5]",
)}\nend`;
export const BULL_ADD_JOB_KEYS = addJobScript.keys;

interface QueueInternals {
  keys: Record<string, string>;
  token: string;
  defaultJobOptions: Bull.JobOptions;
}

/** Builds the keys and arguments of bull's addJob for one queue; jobs are FIFO, not delayed, no priority. */
export function bullAddJobArgsFor(
  queue: Bull.Queue,
): (data: unknown, jobId: string) => { keys: string[]; args: string[] } {
  const internals = queue as unknown as QueueInternals;
  const { keys: queueKeys, token } = internals;
  const keys = ["wait", "paused", "meta-paused", "id", "delayed", "priority"].map(
    (name) => queueKeys[name] ?? "",
  );
  const defaults = internals.defaultJobOptions;
  const attempts = defaults.attempts ?? 1;
  return (data, jobId) => {
    const timestamp = Date.now();
    const opts = { ...defaults, jobId, attempts, delay: 0, timestamp };
    return {
      keys,
      args: [
        queueKeys[""] ?? "",
        jobId,
        "__default__",
        JSON.stringify(data),
        JSON.stringify(opts),
        String(timestamp),
        "0",
        "0",
        "0",
        "LPUSH",
        token,
        "",
        "",
        "",
      ],
    };
  };
}
