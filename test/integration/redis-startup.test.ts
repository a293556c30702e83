import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { loadConfig } from "../../server/config/load-config.ts";
import { isAppError } from "../../server/errors.ts";
import { startService } from "../../server/main.ts";
import { startEmbeddedRedis } from "../../server/redis/embedded-redis.ts";
import { createLogSink } from "../helpers/log-sink.ts";

test("a Redis that may evict keys is refused at start-up with a message that says how to fix it", async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "switchboard-evict-"));
  const sink = createLogSink();
  const redis = await startEmbeddedRedis({
    dir,
    log: sink.log,
    args: ["--appendonly", "no", "--maxmemory-policy", "allkeys-lru"],
  });
  after(async () => {
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const config = loadConfig({
    REDIS_URL: redis.url,
    PORT: "0",
    HOST: "127.0.0.1",
    ADMIN_TOKEN: "0123456789abcdef",
  });
  await assert.rejects(startService(config, sink.log), (error: unknown) => {
    assert.ok(isAppError(error));
    assert.equal(error.code, "REDIS_EVICTION_POLICY");
    assert.match(error.message, /allkeys-lru/);
    assert.match(error.message, /CONFIG SET maxmemory-policy noeviction/);
    return true;
  });
});
