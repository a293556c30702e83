/**
 * One circuit breaker per destination host, shared by every worker through Redis (SPEC §4.2). After
 * `threshold` consecutive failures the breaker opens: deliveries to that host wait (the job is deferred,
 * not failed) for a cool-down that doubles with every re-opening, up to `maxMs`. When it ends, one
 * delivery goes through as a probe (the others keep waiting); its success closes the breaker, its failure
 * re-opens it. Failures recorded while it is open and no probe is out (deliveries that were in flight when
 * it opened) do not re-open it. A success at any time resets the count. A process that saw a host healthy (no failures)
 * trusts that for a second without asking Redis, so healthy deliveries cost no extra round trip.
 */
import type { Redis } from "ioredis";

export interface BreakerOptions {
  threshold: number;
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_BREAKER: BreakerOptions = { threshold: 10, baseMs: 5000, maxMs: 300_000 };

// KEYS[1] breaker hash; ARGV: now. Returns {ms to wait (0 = go ahead), consecutive failures}.
// A go-ahead while open is the probe (marked, so that its failure re-opens the breaker).
const CHECK = `
local state = redis.call("HMGET", KEYS[1], "until", "failures", "cooldown")
local open_until = tonumber(state[1] or "0")
local failures = tonumber(state[2] or "0")
local now = tonumber(ARGV[1])
if open_until == 0 then return {0, failures} end
if now < open_until then return {open_until - now, failures} end
redis.call("HSET", KEYS[1], "until", now + tonumber(state[3] or "5000"), "probing", 1)
return {0, failures}`;

// KEYS[1] breaker hash; ARGV: ok (1/0), now, threshold, base, max, ttl seconds.
// Returns {1 when it opened, -1 when a success closed an open breaker, else 0; consecutive failures}.
const RECORD = `
if ARGV[1] == "1" then
  local was_open = redis.call("HEXISTS", KEYS[1], "until")
  redis.call("DEL", KEYS[1])
  if was_open == 1 then return {-1, 0} end
  return {0, 0}
end
local failures = redis.call("HINCRBY", KEYS[1], "failures", 1)
redis.call("EXPIRE", KEYS[1], tonumber(ARGV[6]))
if failures < tonumber(ARGV[3]) then return {0, failures} end
local state = redis.call("HMGET", KEYS[1], "until", "probing")
-- open and no probe out: a delivery that was already in flight when the breaker opened
if tonumber(state[1] or "0") > tonumber(ARGV[2]) and state[2] ~= "1" then return {0, failures} end
local opens = redis.call("HINCRBY", KEYS[1], "opens", 1)
local cooldown = math.min(tonumber(ARGV[4]) * 2 ^ (opens - 1), tonumber(ARGV[5]))
redis.call("HSET", KEYS[1], "until", tonumber(ARGV[2]) + cooldown, "cooldown", cooldown, "probing", 0)
return {1, failures}`;

export interface Breakers {
  /**
   * The host was seen healthy by this process within the last second: check() would answer 0 and
   * record(host, true) would not ask Redis (the caller may skip both promises).
   */
  trusts(host: string): boolean;
  /** ms deliveries to this host must wait, 0 to go ahead */
  check(host: string): Promise<number>;
  /** records an attempt's outcome; true when this failure opened the breaker */
  record(host: string, ok: boolean): Promise<boolean>;
  /** hosts whose breaker is open now */
  open(): Promise<string[]>;
}

/** Told when a breaker opens, or closes (a success on a host whose breaker had opened); for alerts. */
export interface BreakerHooks {
  opened?(host: string, failures: number): void;
  closed?(host: string): void;
}

type Scripted = Redis & {
  switchboardBreakerCheck(key: string, now: number): Promise<[number, number]>;
  switchboardBreakerRecord(key: string, ...args: Array<string | number>): Promise<[number, number]>;
};

/** How long this process trusts that a host it saw healthy still is, before asking Redis again. */
const HEALTHY_FOR_MS = 1000;

export function createBreakers(
  redis: Redis,
  prefix: string,
  options: BreakerOptions = DEFAULT_BREAKER,
  hooks: BreakerHooks = {},
): Breakers {
  redis.defineCommand("switchboardBreakerCheck", { numberOfKeys: 1, lua: CHECK });
  redis.defineCommand("switchboardBreakerRecord", { numberOfKeys: 1, lua: RECORD });
  const scripted = redis as Scripted;
  const key = (host: string): string => `${prefix}:breaker:${host}`;
  // hosts this process saw with no failures, and when: the happy path costs no Redis round trip
  const healthy = new Map<string, number>();
  const seenHealthy = (host: string): boolean => {
    const at = healthy.get(host);
    return at !== undefined && Date.now() - at < HEALTHY_FOR_MS;
  };
  const note = (host: string, failures: number): void => {
    if (failures > 0) healthy.delete(host);
    else {
      if (healthy.size > 10_000) healthy.clear();
      healthy.set(host, Date.now());
    }
  };
  return {
    trusts: seenHealthy,
    async check(host) {
      if (seenHealthy(host)) return 0;
      const [wait, failures] = await scripted.switchboardBreakerCheck(key(host), Date.now());
      note(host, failures);
      return wait;
    },
    async record(host, ok) {
      if (ok && seenHealthy(host)) return false;
      const ttl = Math.ceil((options.maxMs * 4) / 1000);
      const [opened, failures] = await scripted.switchboardBreakerRecord(
        key(host),
        ok ? "1" : "0",
        Date.now(),
        options.threshold,
        options.baseMs,
        options.maxMs,
        ttl,
      );
      note(host, failures);
      if (opened === 1) hooks.opened?.(host, failures);
      if (opened === -1) hooks.closed?.(host);
      return opened === 1;
    },
    async open() {
      const hosts: string[] = [];
      let cursor = "0";
      do {
        const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:breaker:*`, "COUNT", 500);
        cursor = next;
        for (const k of keys) {
          const until = Number(await redis.hget(k, "until"));
          if (until > Date.now()) hosts.push(k.slice(`${prefix}:breaker:`.length));
        }
      } while (cursor !== "0");
      return hosts;
    },
  };
}
