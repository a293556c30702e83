/**
 * The at-most-once ledger of vobiz actions (SPEC §4.2), in Redis, one hash per (event, rule, action
 * index), kept for EVENT_RETENTION. A run goes through it in steps, each one atomic (a small Lua script):
 *
 *   claim    absent or `pending` → `pending`, owned by this run (a run that died before sending left
 *            it `pending` with its owner: provably nothing was sent, so it is taken over; a run that
 *            deferred or will retry gives it up first)
 *   sending  `pending` and still ours → `sending`, just before the request is written; of two runs
 *            racing for one action, only one gets here
 *   finish   `sending` (or `unknown`) and ours → `done` / `failed` with the result, or back to
 *            `pending` when the request provably did not reach Vobiz (it will be retried)
 *
 * A run that finds `sending` left by another is the worker-killed-after-sending case: the outcome is
 * unknown and it is never sent again on its own (`markUnknown`). An operator's retry from the dead
 * letters is a new round: a claim with a higher round may take an `unknown`, `sending` or `failed` entry
 * once. `done` and `refused` entries are final.
 *
 * The same file holds the two fleet-wide limits that need Redis: the per-(rule, number) cap of the loop
 * breaker (a sliding window, counted once per ledger entry) and the VOBIZ_CPS token bucket.
 */
import type { Redis } from "ioredis";

export type LedgerState = "pending" | "sending" | "done" | "failed" | "unknown" | "refused";

export interface LedgerEntry {
  state: LedgerState;
  owner?: string;
  round?: number;
  [field: string]: unknown;
}

// KEYS[1] ledger; ARGV: owner, round, ttl ms. Returns "claimed", "taken_over" (from a run that stopped
// before sending) or the state found.
const CLAIM = `
local state = redis.call("HGET", KEYS[1], "state")
local owner = redis.call("HGET", KEYS[1], "owner")
local round = tonumber(redis.call("HGET", KEYS[1], "round") or "0")
local asked = tonumber(ARGV[2])
local retry = asked > round and (state == "unknown" or state == "sending" or state == "failed")
if state == false or state == "pending" or retry then
  if retry then redis.call("DEL", KEYS[1]) end
  redis.call("HSET", KEYS[1], "state", "pending", "owner", ARGV[1], "round", asked)
  redis.call("PEXPIRE", KEYS[1], tonumber(ARGV[3]))
  if state == "pending" and owner ~= false and owner ~= "" then return "taken_over" end
  return "claimed"
end
return state`;

// KEYS[1] ledger; ARGV: owner, now. 1 when this run may send.
const SENDING = `
if redis.call("HGET", KEYS[1], "state") ~= "pending" then return 0 end
if redis.call("HGET", KEYS[1], "owner") ~= ARGV[1] then return 0 end
redis.call("HSET", KEYS[1], "state", "sending", "sendingAt", ARGV[2])
return 1`;

// KEYS[1] ledger; ARGV: owner, from-states (comma list), field, value, field, value, ... 1 when written.
const FINISH = `
local state = redis.call("HGET", KEYS[1], "state")
if state == false or redis.call("HGET", KEYS[1], "owner") ~= ARGV[1] then return 0 end
if not string.find("," .. ARGV[2] .. ",", "," .. state .. ",", 1, true) then return 0 end
for i = 3, #ARGV, 2 do redis.call("HSET", KEYS[1], ARGV[i], ARGV[i + 1]) end
return 1`;

// KEYS[1] ledger; ARGV: from-state, field, value, ... (no owner check: the owner is gone)
const MARK = `
if redis.call("HGET", KEYS[1], "state") ~= ARGV[1] then return 0 end
for i = 2, #ARGV, 2 do redis.call("HSET", KEYS[1], ARGV[i], ARGV[i + 1]) end
return 1`;

// KEYS[1] cap zset; ARGV: member, window ms, max. Returns the count before, and 1 when allowed.
const CAP = `
local now = redis.call("TIME")
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call("ZREMRANGEBYSCORE", KEYS[1], "-inf", ms - tonumber(ARGV[2]))
if redis.call("ZSCORE", KEYS[1], ARGV[1]) then return {redis.call("ZCARD", KEYS[1]), 1} end
local count = redis.call("ZCARD", KEYS[1])
if count >= tonumber(ARGV[3]) then return {count, 0} end
redis.call("ZADD", KEYS[1], ms, ARGV[1])
redis.call("PEXPIRE", KEYS[1], tonumber(ARGV[2]))
return {count, 1}`;

// KEYS[1] bucket hash; ARGV: rate per second (also the burst). Returns ms to wait, 0 when a token was taken.
const BUCKET = `
local now = redis.call("TIME")
local ms = tonumber(now[1]) * 1000 + tonumber(now[2]) / 1000
local rate = tonumber(ARGV[1])
local state = redis.call("HMGET", KEYS[1], "tokens", "at")
local tokens = tonumber(state[1] or ARGV[1])
local at = tonumber(state[2] or ms)
tokens = math.min(rate, tokens + (ms - at) * rate / 1000)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) * 1000 / rate) end
redis.call("HSET", KEYS[1], "tokens", tostring(tokens), "at", tostring(ms))
redis.call("PEXPIRE", KEYS[1], 60000)
return wait`;

type Scripted = Redis & {
  sbLedgerClaim(key: string, owner: string, round: number, ttl: number): Promise<string>;
  sbLedgerSending(key: string, owner: string, now: number): Promise<number>;
  sbLedgerFinish(key: string, ...args: Array<string | number>): Promise<number>;
  sbLedgerMark(key: string, ...args: Array<string | number>): Promise<number>;
  sbVobizCap(key: string, member: string, windowMs: number, max: number): Promise<[number, number]>;
  sbVobizBucket(key: string, rate: number): Promise<number>;
};

export interface VobizLedger {
  /**
   * "claimed"; "taken_over" when a run that stopped before sending held it (claimed too); or the state
   * another run left
   */
  claim(key: string, owner: string, round: number): Promise<"claimed" | "taken_over" | LedgerState>;
  /** gives a pending entry up (a deferral, a retry after a request that did not reach Vobiz) */
  release(key: string, owner: string): Promise<boolean>;
  /** true when this run may write the request now */
  sending(key: string, owner: string): Promise<boolean>;
  /** records the result (from the given states, by the owner); false when another run took it over */
  finish(key: string, owner: string, from: LedgerState[], fields: Record<string, unknown>): Promise<boolean>;
  /** an entry left `sending` by a run that is gone: its outcome is unknown */
  markUnknown(key: string, fields: Record<string, unknown>): Promise<boolean>;
  get(key: string): Promise<LedgerEntry | undefined>;
  /** the per-(rule, number) cap: whether `member` may act (counted once per member) */
  withinCap(
    rule: string,
    number: string,
    member: string,
    windowMs: number,
    max: number,
  ): Promise<{ allowed: boolean; count: number }>;
  /** VOBIZ_CPS: ms to wait for a make_call token, 0 when one was taken */
  takeToken(cps: number): Promise<number>;
  key(eventId: string, rule: string, index: number): string;
}

const flatten = (fields: Record<string, unknown>): Array<string> =>
  Object.entries(fields).flatMap(([name, value]) =>
    value === undefined ? [] : [name, typeof value === "string" ? value : JSON.stringify(value)],
  );

export function createVobizLedger(redis: Redis, prefix: string, retentionMs: number): VobizLedger {
  redis.defineCommand("sbLedgerClaim", { numberOfKeys: 1, lua: CLAIM });
  redis.defineCommand("sbLedgerSending", { numberOfKeys: 1, lua: SENDING });
  redis.defineCommand("sbLedgerFinish", { numberOfKeys: 1, lua: FINISH });
  redis.defineCommand("sbLedgerMark", { numberOfKeys: 1, lua: MARK });
  redis.defineCommand("sbVobizCap", { numberOfKeys: 1, lua: CAP });
  redis.defineCommand("sbVobizBucket", { numberOfKeys: 1, lua: BUCKET });
  const scripted = redis as Scripted;
  return {
    key: (eventId, rule, index) => `${prefix}:vobiz:ledger:${eventId}:${rule}:${index}`,
    claim: async (key, owner, round) =>
      (await scripted.sbLedgerClaim(key, owner, round, retentionMs)) as
        "claimed" | "taken_over" | LedgerState,
    release: async (key, owner) => (await scripted.sbLedgerFinish(key, owner, "pending", "owner", "")) === 1,
    sending: async (key, owner) => (await scripted.sbLedgerSending(key, owner, Date.now())) === 1,
    finish: async (key, owner, from, fields) =>
      (await scripted.sbLedgerFinish(key, owner, from.join(","), ...flatten(fields))) === 1,
    markUnknown: async (key, fields) =>
      (await scripted.sbLedgerMark(key, "sending", ...flatten({ ...fields, state: "unknown" }))) === 1,
    async get(key) {
      const hash = await redis.hgetall(key);
      if (hash.state === undefined) return undefined;
      return { ...hash, state: hash.state as LedgerState, round: Number(hash.round ?? 0) };
    },
    async withinCap(rule, number, member, windowMs, max) {
      const [count, allowed] = await scripted.sbVobizCap(
        `${prefix}:vobiz:cap:${rule}:${number}`,
        member,
        windowMs,
        max,
      );
      return { allowed: allowed === 1, count };
    },
    takeToken: (cps) => scripted.sbVobizBucket(`${prefix}:vobiz:cps`, cps),
  };
}
