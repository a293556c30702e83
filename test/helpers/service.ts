import path from "node:path";
import { loadConfig, type Config } from "../../server/config/load-config.ts";
import { startService, type Service } from "../../server/main.ts";
import { createLogSink, type LogSink } from "./log-sink.ts";
import { useTestRedis, type TestRedis } from "./redis.ts";

export const TEST_AUTH_TOKEN = "test-auth-token";
export const TEST_ADMIN_TOKEN = "test-admin-token-0123456789";
export const TEST_PUBLIC_URL = "https://sb.example.com";
export const FIXTURES = path.resolve(import.meta.dirname, "../fixtures");

export interface TestService extends Service {
  url: string;
  config: Readonly<Config>;
  logs: LogSink;
  prefix: string;
  /** pass to another startTestService to start a second instance of the same fleet (same Redis prefix) */
  testRedis: TestRedis;
}

/**
 * Starts the whole service (the same graph main.ts builds) on 127.0.0.1 and a free port, against the test
 * Redis under this file's own prefix; closed after the file's tests. `env` overrides the defaults.
 */
export async function startTestService(
  importMetaUrl: string,
  env: Record<string, string | undefined> = {},
  testRedis: TestRedis = useTestRedis(importMetaUrl),
): Promise<TestService> {
  const { url: redisUrl, prefix, onCleanup } = testRedis;
  const config = loadConfig({
    PORT: "0",
    HOST: "127.0.0.1",
    PUBLIC_URL: TEST_PUBLIC_URL,
    REDIS_URL: redisUrl,
    REDIS_PREFIX: prefix,
    VOBIZ_AUTH_TOKEN: TEST_AUTH_TOKEN,
    ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    RULES_DIR: path.join(FIXTURES, "rules", "empty"),
    TEMPLATES_DIR: path.resolve(import.meta.dirname, "../../templates"),
    LOG_LEVEL: "debug",
    ...env,
  });
  const logs = createLogSink(config.logLevel);
  const service = await startService(config, logs.log);
  onCleanup(() => service.close());
  if (service.url === undefined) throw new Error("the web role is not running");
  return { ...service, url: service.url, config, logs, prefix, testRedis };
}
