import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { after } from "node:test";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";

/** The Redis that scripts/run-tests.ts started for this run. */
export function testRedisUrl(): string {
  const url = process.env.TEST_REDIS_URL;
  if (!url) throw new Error("TEST_REDIS_URL is not set: run integration tests through `npm test`");
  return url;
}

/** A key prefix unique to this test file and run, e.g. `t:events-route:3f9a`. */
export function uniquePrefix(importMetaUrl: string): string {
  const name = path.basename(fileURLToPath(importMetaUrl)).replace(/\.test\.ts$/, "");
  return `t:${name}:${randomBytes(3).toString("hex")}`;
}

async function withClient<T>(url: string, use: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, connectionName: "test-helper" });
  try {
    return await use(redis);
  } finally {
    redis.disconnect();
  }
}

/** Deletes every key under a prefix. */
export function deleteKeys(url: string, prefix: string): Promise<number> {
  return withClient(url, async (redis) => {
    let deleted = 0;
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.del(...keys);
    } while (cursor !== "0");
    return deleted;
  });
}

/** Names of the open connections whose name mentions the prefix (the service names them `switchboard:<prefix>:…`). */
export function openConnections(url: string, prefix: string): Promise<string[]> {
  return withClient(url, async (redis) =>
    String(await redis.client("LIST"))
      .split("\n")
      .map((line) => /\bname=(\S*)/.exec(line)?.[1] ?? "")
      .filter((name) => name.includes(prefix)),
  );
}

export interface TestRedis {
  url: string;
  prefix: string;
  /** runs before the keys are deleted (close services and queues here) */
  onCleanup: (step: () => Promise<void>) => void;
}

/**
 * A prefix for this file's keys on the shared test Redis. After the file's tests: the cleanup steps run
 * (last registered first), the file fails if a connection named after its prefix is still open, and its
 * keys are deleted. scripts/run-tests.ts also fails the run if any key or connection is left at the end.
 */
export function useTestRedis(importMetaUrl: string): TestRedis {
  const url = testRedisUrl();
  const prefix = uniquePrefix(importMetaUrl);
  const steps: Array<() => Promise<void>> = [];
  after(async () => {
    for (const step of steps.reverse()) await step();
    const left = await openConnections(url, prefix);
    await deleteKeys(url, prefix);
    assert.deepEqual(left, [], `Redis connections left open by ${prefix}`);
  });
  return { url, prefix, onCleanup: (step) => steps.push(step) };
}
