/**
 * Switchboard's own Lua scripts (lua/*.lua), joined with bull's addJob where a file says
 * `-- @bull-add-job NAME` (bull-add-job.ts), defined on a connection, and called with keys and arguments
 * built here and only here: each script's layout is written once, as a typed call.
 */
import { readFileSync } from "node:fs";
import type Bull from "bull";
import type { Redis } from "ioredis";
import { bullAddJobFor, bullKeysOf, bullMoveToFinishedLua } from "./bull-add-job.ts";
import { jobOptionsFor } from "./action-job-options.ts";
import type { ActionJobToAdd } from "./job-types.ts";

/**
 * Reads lua/<file> and puts bull's functions in place: its addJob for a queue at each
 * `-- @bull-add-job NAME` line, its moveToFinished at `-- @bull-move-to-finished NAME`.
 */
export function loadScript(file: string, queues: Record<string, Bull.Queue> = {}): string {
  const text = readFileSync(new URL(`./lua/${file}`, import.meta.url), "utf8");
  return text
    .replace(/^-- @bull-add-job (\w+)$/gm, (_, name: string) => {
      const queue = queues[name];
      if (queue === undefined) throw new Error(`${file}: no queue for ${name}`);
      return bullAddJobFor(queue, name).lua;
    })
    .replace(/^-- @bull-move-to-finished (\w+)$/gm, (_, name: string) => bullMoveToFinishedLua(name));
}

export type ClaimReply = ["replayed"] | ["duplicate", string] | ["gone"] | ["stored", string, string];

export interface ClaimCall {
  keys: {
    dedup: string;
    nonce: string;
    index: string;
    trace: string;
  };
  /**
   * When the event names a call: the index (a hash of call → events) where `member` is added (space-
   * separated) under the call's `field`, and when that index expires (epoch ms)
   */
  callIndex?: { key: string; field: string; member: string; expireAt: number } | undefined;
  eventId: string;
  /** the delivery's hash (method, URL, body) */
  hash: string;
  now: number;
  dedupTtlSeconds: number;
  retentionMs: number;
  /** the request carried a verified nonce (keys.nonce is its record) */
  signed: boolean;
  /** the event job's data (JSON) */
  eventJson: string;
  /**
   * The trace as the claim writes it: `head`, then the event's JSON when `withEvent` (so that it is sent
   * once, not twice), then `tail`. Its format is the events layer's (events/trace-format.ts).
   */
  trace: { head: string; withEvent: boolean; tail: string };
  /**
   * A replay of a stored event: no de-duplication or nonce record is read or written; stored only while
   * the record at `key` exists (else "gone"), and `append` is appended to it (its TTL kept).
   */
  replayOf?: { key: string; append: string } | undefined;
}

/** the first `count` action jobs are stored taken by the caller, locked with `token` */
export interface ClaimTake {
  count: number;
  token: string;
  lockMs: number;
}

export interface DispatchCall {
  /** the trace's key, the text whose presence in it says "decided", and the text to append */
  trace: { key: string; mark: string; append: string };
  now: number;
  /** how long a trace written by the dispatch (its own had expired) is kept */
  retentionMs: number;
  eventJson: string;
  jobs: readonly ActionJobToAdd[];
}

export interface QueueScripts {
  /**
   * `jobs`: decided in the request path, the action jobs (the decision is in `call.trace`); without them,
   * an event job. Separate arguments, not one object spread together per request (the hot path).
   */
  claim(call: ClaimCall, take: ClaimTake, jobs?: readonly ActionJobToAdd[]): Promise<ClaimReply>;
  /** 1 when dispatched now, 0 when an earlier attempt already recorded the decision */
  dispatch(call: DispatchCall): Promise<number>;
}

/** an event job takes its queue's default options */
const EVENT_JOB: Bull.JobOptions = Object.freeze({});

/**
 * A defined script, called with its keys and arguments as one array: ioredis flattens it into the command
 * (one copy), where spreading them into the call would copy them twice more (the hot path).
 */
type Script<T> = (args: Array<string | number>) => Promise<T>;

/** `keys` undefined: the key count is each call's first argument */
function define<T>(client: Redis, name: string, keys: number | undefined, lua: string): Script<T> {
  client.defineCommand(name, keys === undefined ? { lua } : { numberOfKeys: keys, lua });
  const command = (client as unknown as Record<string, Script<T> | undefined>)[name];
  if (command === undefined) throw new Error(`the ${name} script is not defined`);
  return command.bind(client);
}

/**
 * Defines the scripts on `client`. `events` and `actions` are producing queues (bull's keys, token and
 * default options are read from them).
 */
export function defineQueueScripts(
  client: Redis,
  queues: { events: Bull.Queue; actions: Bull.Queue },
): QueueScripts {
  const events = bullAddJobFor(queues.events, "bullAddEvent");
  const actions = bullAddJobFor(queues.actions, "bullAddAction");
  const jobKeyPrefix = bullKeysOf(queues.actions)[""] ?? "";
  const eventJobKeys = events.keys;
  const actionJobKeys = [...actions.keys, bullKeysOf(queues.actions).active ?? ""];
  const optsOf = (job: ActionJobToAdd, now: number): string =>
    actions.optsWith(jobOptionsFor(job.value.action), job.id, now);
  // the claim's key count varies (its first argument): only the keys it uses are sent
  const claim = define<ClaimReply>(
    client,
    "switchboardClaimEvent",
    undefined,
    loadScript("claim-event.lua", { bullAddEvent: queues.events, bullAddAction: queues.actions }),
  );
  const dispatch = define<number>(
    client,
    "switchboardDispatchEvent",
    7,
    loadScript("dispatch-event.lua", { bullAddAction: queues.actions }),
  );
  return {
    claim(call, take, jobs) {
      const { keys } = call;
      // keys 7-12: the queue the claim adds to; 13: the actions' active list, with action jobs only
      const queueKeys = jobs === undefined ? eventJobKeys : actionJobKeys;
      const args: Array<string | number> = [
        6 + queueKeys.length, keys.dedup, keys.nonce, keys.index, keys.trace,
        call.callIndex?.key ?? "", call.replayOf?.key ?? "", ...queueKeys,
      ]; // prettier-ignore
      args.push(
        call.eventId, call.hash, call.now, call.dedupTtlSeconds, call.retentionMs, call.signed ? "1" : "0",
        call.eventJson, jobs === undefined ? events.optsWith(EVENT_JOB, call.eventId, call.now) : "",
        call.trace.head, call.trace.withEvent ? "1" : "0", call.trace.tail,
        take.count, take.token, take.lockMs, jobKeyPrefix, call.replayOf?.append ?? "",
        call.callIndex?.field ?? "", call.callIndex?.expireAt ?? 0, call.callIndex?.member ?? "",
      ); // prettier-ignore
      if (jobs !== undefined) for (const job of jobs) args.push(job.id, job.rest, optsOf(job, call.now));
      return claim(args);
    },
    dispatch(call) {
      const { trace } = call;
      const args = [
        trace.key,
        ...actions.keys,
        call.now,
        trace.mark,
        trace.append,
        call.eventJson,
        call.retentionMs,
      ];
      for (const job of call.jobs) args.push(job.id, job.rest, optsOf(job, call.now));
      return dispatch(args);
    },
  };
}
