import assert from "node:assert/strict";
import { test } from "node:test";
import { loadConfig } from "../../../server/config/load-config.ts";
import { redisTargetOptions } from "../../../server/redis/redis-connections.ts";

test("REDIS_SENTINELS and the auth and TLS settings become the options ioredis takes", () => {
  const { redis } = loadConfig({
    REDIS_SENTINELS: "10.0.0.1:26379,10.0.0.2:26380",
    REDIS_SENTINEL_NAME: "sb",
    REDIS_SENTINEL_PASSWORD: "sentinel-secret",
    REDIS_PASSWORD: "redis-secret",
    REDIS_TLS: "true",
    REDIS_SENTINEL_TLS: "true",
  });
  const target = redisTargetOptions(undefined, redis);
  assert.equal(target.url, undefined);
  assert.deepEqual(target.options.sentinels, [
    { host: "10.0.0.1", port: 26379 },
    { host: "10.0.0.2", port: 26380 },
  ]);
  assert.equal(target.options.name, "sb");
  assert.equal(target.options.sentinelPassword, "sentinel-secret");
  assert.equal(target.options.password, "redis-secret");
  assert.deepEqual(target.options.tls, {});
  assert.equal(target.options.enableTLSForSentinelMode, true);
  assert.equal(target.options.failoverDetector, true);
  assert.equal(target.label, "sentinel 10.0.0.1:26379,10.0.0.2:26380 (sb)");
});

test("a Redis URL is used as it is, and its password never reaches the logs", () => {
  const { redis } = loadConfig({ REDIS_URL: "redis://user:pa55@redis.internal:6379/0" });
  const target = redisTargetOptions("redis://user:pa55@redis.internal:6379/0", redis);
  assert.equal(target.url, "redis://user:pa55@redis.internal:6379/0");
  assert.equal(target.options.sentinels, undefined);
  assert.equal(target.options.tls, undefined);
  assert.equal(target.label, "redis://***@redis.internal:6379/0");
});
