/**
 * bull's own "add a job" step as a Lua function, so that Switchboard's scripts (lua/claim-event.lua,
 * lua/dispatch-event.lua) store an event and its jobs in one round trip. The function is bull 4.16.5's
 * `lib/scripts/addJob-6.js`, unchanged: it is wrapped as `NAME(KEYS, jobId, data, opts, timestamp)`, the
 * arguments bull's `scripts.addJob` would send are rebuilt inside it (the ones that never change for a
 * queue: key prefix, queue token, FIFO, no delay, no priority, no debounce), and a local `cmsgpack` whose
 * `unpack` returns its argument lets it take the opts JSON as is (bull sends that same JSON packed as a
 * msgpack string, a binary argument). At start the bull version and the script's hash are checked: a bull
 * upgrade stops the start here, and test/integration/queue/bull-contract.test.ts says what to compare.
 */
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import type Bull from "bull";

const require = createRequire(import.meta.url);
const BULL_VERSION = "4.16.5";
const ADD_JOB_SHA256 = "677eede0be6586923bcb8ab9f019fbbca23aa4a9cfe4164951169e536f5cc51a";
const MOVE_TO_FINISHED_SHA256 = "4991523fd57b34c63c0d817fa82ec0fb379cc7da73a2bdb2065b84d6f7549000";

const bullVersion = (require("bull/package.json") as { version: string }).version;
const addJobScript = require("bull/lib/scripts/addJob-6.js") as { content: string; keys: number };
const moveToFinishedScript = require("bull/lib/scripts/moveToFinished-9.js") as {
  content: string;
  keys: number;
};
const backoffs = require("bull/lib/backoffs.js") as { normalize(backoff: unknown): unknown };

/** Throws unless bull is the version whose internals server/queue/ was written and tested against. */
export function checkBullVersion(
  version = bullVersion,
  script = addJobScript,
  finish = moveToFinishedScript,
): void {
  const sha = (text: string): string => createHash("sha256").update(text).digest("hex");
  if (
    version !== BULL_VERSION ||
    sha(script.content) !== ADD_JOB_SHA256 ||
    script.keys !== 6 ||
    sha(finish.content) !== MOVE_TO_FINISHED_SHA256 ||
    finish.keys !== 9
  ) {
    throw new Error(
      `bull ${version} is installed; server/queue/ reuses bull ${BULL_VERSION}'s addJob-6 and moveToFinished-9 scripts ` +
        "and job layout: run test/integration/queue/ against the new version and update server/queue/",
    );
  }
}
checkBullVersion();

interface QueueInternals {
  keys: Record<string, string>;
  token: string;
  defaultJobOptions: Bull.JobOptions | undefined;
}

export interface BullAddJob {
  /** Lua source defining `<name>(KEYS, jobId, data, opts, timestamp)` for this queue */
  lua: string;
  /** bull's six addJob keys for this queue, to declare as the script's keys */
  keys: string[];
  /** the opts JSON bull's queue.add(data, options) would store (its setDefaultOpts, replayed) */
  optsWith(options: Bull.JobOptions, jobId: string, timestamp: number): string;
}

function luaString(value: string): string {
  if (!/^[\w{}:.@-]*$/.test(value)) throw new Error(`unexpected characters in ${JSON.stringify(value)}`);
  return `"${value}"`;
}

/** The queue's key names (bull's `queue.keys`, `queue.toKey`), for scripts that touch its lists. */
export const bullKeysOf = (queue: Bull.Queue): Record<string, string> =>
  (queue as unknown as QueueInternals).keys;

export function bullAddJobFor(queue: Bull.Queue, name: string): BullAddJob {
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
  return {
    lua: [
      `local function ${name}(KEYS, jobId, data, opts, timestamp)`,
      `  local ARGV = {${luaString(prefix)}, jobId, "__default__", data, opts, timestamp, "0", "0", "0", "LPUSH", ${luaString(token)}, "", "", ""}`,
      "  local cmsgpack = {unpack = function(packed) return packed end}",
      addJobScript.content,
      "end",
    ].join("\n"),
    keys: ["wait", "paused", "meta-paused", "id", "delayed", "priority"].map((key) => queueKeys[key] ?? ""),
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

/**
 * bull's moveToFinished (4.16.5's `lib/scripts/moveToFinished-9.js`, unchanged) as a Lua function
 * `NAME(KEYS, ARGV)`, for a completion that also writes the event's trace in the same call.
 */
export function bullMoveToFinishedLua(name: string): string {
  if (!/^[A-Za-z]\w*$/.test(name)) throw new Error(`not a Lua function name: ${name}`);
  return [`local function ${name}(KEYS, ARGV)`, moveToFinishedScript.content, "end"].join("\n");
}
