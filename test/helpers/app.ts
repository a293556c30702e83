/**
 * The web role's Koa app built as main.ts builds it (webDeps + buildApp), on a real Redis under this
 * file's prefix, without listening: tests drive `app.callback()` through light-my-request.
 */
import path from "node:path";
import type Koa from "koa";
import { buildApp } from "../../server/app.ts";
import { loadConfig, type Config } from "../../server/config/load-config.ts";
import { webDeps } from "../../server/main.ts";
import { createMetrics } from "../../server/metrics.ts";
import { createEventQueue } from "../../server/queue/event-queue.ts";
import { createReplayQueue } from "../../server/queue/replay-queue.ts";
import { createRedisConnections } from "../../server/redis/redis-connections.ts";
import { createFleetReload } from "../../server/rules/fleet-reload.ts";
import type { LoadedRuleset } from "../../server/rules/load-ruleset.ts";
import { RuleRegistry } from "../../server/rules/rule-registry.ts";
import { createRulesetReloader } from "../../server/rules/ruleset-reloader.ts";
import { createLogSink, type LogSink } from "./log-sink.ts";
import { useTestRedis } from "./redis.ts";
import { FIXTURES, TEST_ADMIN_TOKEN, TEST_AUTH_TOKEN, TEST_PUBLIC_URL } from "./service.ts";

export interface TestApp {
  app: Koa;
  config: Readonly<Config>;
  prefix: string;
  redisUrl: string;
  logs: LogSink;
}

export async function buildTestApp(
  importMetaUrl: string,
  env: Record<string, string> = {},
): Promise<TestApp> {
  const { url, prefix, onCleanup } = useTestRedis(importMetaUrl);
  const config = loadConfig({
    PUBLIC_URL: TEST_PUBLIC_URL,
    REDIS_URL: url,
    REDIS_PREFIX: prefix,
    VOBIZ_AUTH_TOKEN: TEST_AUTH_TOKEN,
    ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    RULES_DIR: path.join(FIXTURES, "rules", "empty"),
    TEMPLATES_DIR: path.resolve(import.meta.dirname, "../../templates"),
    ROLE: "web",
    LOG_LEVEL: "debug",
    DATA_DIR: path.join(FIXTURES, "..", "..", "var", `test-app-${process.pid}`),
    ...env,
  });
  const logs = createLogSink(config.logLevel);
  const log = logs.log;
  const metrics = createMetrics();
  const registry = new RuleRegistry<LoadedRuleset>();
  const context = { defaultCountry: config.defaultCountry, publicUrl: config.publicUrl };
  const reloader = createRulesetReloader(
    registry,
    { rulesDir: config.rulesDir, templatesDir: config.templatesDir, context },
    log,
  );
  const loaded = await reloader.reload();
  if (loaded.errors.length > 0)
    throw new Error(`the test rules do not load: ${JSON.stringify(loaded.errors)}`);
  const connections = createRedisConnections(url, log, `${prefix}:app`);
  await connections.waitUntilReady();
  const fleet = createFleetReload({
    command: connections.command,
    subscriber: connections.subscriber,
    prefix,
    role: config.role,
    reloader,
    currentVersion: () => registry.current?.version,
    log,
  });
  const queue = createEventQueue(connections, {
    prefix,
    consume: false,
    lockMs: config.jobLockMs,
    actionConcurrency: config.actionConcurrency,
    retentionMs: config.eventRetentionMs,
    log,
  });
  const replays = createReplayQueue(connections, {
    prefix,
    consume: false,
    ratePerSecond: config.replayRate,
    lockMs: config.jobLockMs,
    log,
  });
  onCleanup(async () => {
    await replays.close();
    await queue.close();
    await connections.close();
  });
  const deps = webDeps({ config, log, metrics, registry, connections, fleet, queue, replays }, []);
  return { app: buildApp(deps), config, prefix, redisUrl: url, logs };
}
