/**
 * Failing destinations for the dashboard: every host whose circuit breaker (actions/circuit-breaker.ts)
 * counts failures or is open, with the dead letters waiting for it. Reads the breakers' hashes (one SCAN
 * over `<prefix>:breaker:*`, as the open-breaker gauge does) and a page of dead letters.
 */
import type { Redis } from "ioredis";
import type { DeadLetters } from "../actions/dead-letters.ts";

export interface DestinationHealth {
  host: string;
  /** consecutive failures counted by the breaker (0 once a delivery succeeded) */
  failures: number;
  /** the breaker is open until this time (deliveries wait) */
  openUntil: string | null;
  /** how many times the breaker opened in a row */
  opens: number;
  /** dead letters for this host among the newest `deadLetterPage` */
  deadLetters: number;
}

export async function destinationHealth(
  redis: Redis,
  prefix: string,
  deadLetters: Pick<DeadLetters, "list">,
  now = Date.now(),
  deadLetterPage = 500,
): Promise<DestinationHealth[]> {
  const byHost = new Map<string, DestinationHealth>();
  const entry = (host: string): DestinationHealth => {
    let found = byHost.get(host);
    if (found === undefined) {
      found = { host, failures: 0, openUntil: null, opens: 0, deadLetters: 0 };
      byHost.set(host, found);
    }
    return found;
  };
  const keyPrefix = `${prefix}:breaker:`;
  let cursor = "0";
  let rounds = 0;
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${keyPrefix}*`, "COUNT", 500);
    cursor = next;
    rounds += 1;
    if (keys.length === 0) continue;
    const pipeline = redis.pipeline();
    for (const key of keys) pipeline.hmget(key, "failures", "until", "opens");
    const replies = (await pipeline.exec()) ?? [];
    for (const [index, key] of keys.entries()) {
      const [failures, until, opens] = (replies[index]?.[1] ?? []) as Array<string | null>;
      const openUntil = Number(until ?? 0);
      if (Number(failures ?? 0) === 0 && openUntil <= now) continue;
      const health = entry(key.slice(keyPrefix.length));
      health.failures = Number(failures ?? 0);
      health.openUntil = openUntil > now ? new Date(openUntil).toISOString() : null;
      health.opens = Number(opens ?? 0);
    }
  } while (cursor !== "0" && rounds < 10_000);
  const letters = await deadLetters.list({ limit: deadLetterPage });
  for (const letter of letters.items) entry(letter.host).deadLetters += 1;
  return [...byHost.values()].sort(
    (a, b) =>
      Number(b.openUntil !== null) - Number(a.openUntil !== null) ||
      b.deadLetters - a.deadLetters ||
      b.failures - a.failures ||
      a.host.localeCompare(b.host),
  );
}
