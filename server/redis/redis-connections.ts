import { readFileSync } from "node:fs";
import { Redis, type RedisOptions } from "ioredis";
import type { RedisSettings } from "../config/load-config.ts";
import { AppError, isAppError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { corkEachTurn } from "./cork-turn.ts";

/**
 * The Redis connections of one process, shared the way bull's PATTERNS.md describes:
 * - `command`: our own commands (claims, admin reads). It fails fast while Redis is away (no offline
 *   queue, 1 s command timeout) so that /events answers 503 instead of hanging; so nothing may be sent on it
 *   before it is ready (`waitUntilReady`). The commands of one turn
 *   of the event loop leave in one write (cork-turn.ts): under load the claims of several requests share
 *   write calls (docs/BENCHMARKS.md). bull never uses it.
 * - `producer`: the producing queues' client (bull's adds, counts); fails fast like `command`.
 * - `worker`: the consuming queues' client, and the action runner's trace writes; it waits through
 *   reconnects (bull needs that).
 * - `subscriber`: one shared subscriber for every queue and for fleet pub/sub.
 * - blocking clients: one per consuming queue, made on demand, closed by `close()`.
 * Every connection reconnects on its own, for ever (a Redis restart or a Sentinel failover is survived);
 * with `REDIS_SENTINELS` each (re)connection asks the Sentinels for the current primary.
 */
export interface RedisConnections {
  command: Redis;
  producer: Redis;
  worker: Redis;
  subscriber: Redis;
  /** for bull's `createClient` option */
  bullClientFactory(kind: "producer" | "consumer"): (type: string, redisOpts?: RedisOptions) => Redis;
  close(): Promise<void>;
  /**
   * Resolves once the command, producer, worker and subscriber connections are ready and Redis passed the start-up
   * checks. Waits as long as it takes: logs every `logEveryMs` and tells `onWaiting` why it still waits.
   */
  waitUntilReady(options?: { onWaiting?: (reason: string) => void; logEveryMs?: number }): Promise<void>;
  /** where these connections go, for logs (no password) */
  readonly label: string;
}

const RECONNECT: RedisOptions = {
  retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
  reconnectOnError: (error) => error.message.startsWith("READONLY"),
};

/** The ioredis options for REDIS_URL (or the embedded server's URL) or REDIS_SENTINELS, with auth and TLS. */
export function redisTargetOptions(
  url: string | undefined,
  settings: RedisSettings | undefined,
): { url: string | undefined; options: RedisOptions; label: string } {
  const ca = settings?.tlsCaFile === undefined ? undefined : readFileSync(settings.tlsCaFile);
  const tls = ca === undefined ? {} : { ca };
  const options: RedisOptions = {
    ...(settings?.username === undefined ? {} : { username: settings.username }),
    ...(settings?.password === undefined ? {} : { password: settings.password }),
    ...(settings?.tls === true || (ca !== undefined && url?.startsWith("rediss:")) ? { tls } : {}),
  };
  if (settings?.sentinels === undefined) {
    if (url === undefined) throw new Error("neither a Redis URL nor Sentinels were given");
    return { url, options, label: url.replace(/\/\/[^@/]*@/, "//***@") };
  }
  return {
    url: undefined,
    options: {
      ...options,
      sentinels: settings.sentinels.map(({ host, port }) => ({ host, port })),
      name: settings.sentinelName,
      ...(settings.sentinelUsername === undefined ? {} : { sentinelUsername: settings.sentinelUsername }),
      ...(settings.sentinelPassword === undefined ? {} : { sentinelPassword: settings.sentinelPassword }),
      ...(settings.sentinelTls ? { enableTLSForSentinelMode: true, sentinelTLS: tls } : {}),
      // a failover is noticed through the Sentinels' +switch-master, not only when the old primary drops
      failoverDetector: true,
      sentinelRetryStrategy: (times: number) => Math.min(100 * times, 2000),
    },
    label: `sentinel ${settings.sentinels.map(({ host, port }) => `${host}:${port}`).join(",")} (${settings.sentinelName})`,
  };
}

/**
 * `name` labels every connection (CLIENT LIST shows `<name>:command`, `<name>:worker`, ...). `url` is
 * REDIS_URL or the embedded server's; `settings` (REDIS_SENTINELS, auth, TLS) may replace it.
 */
export function createRedisConnections(
  url: string | undefined,
  log: Logger,
  name = "switchboard",
  settings?: RedisSettings,
): RedisConnections {
  const target = redisTargetOptions(url, settings);
  const opened: Redis[] = [];
  const lastErrors = new Map<string, string>();
  const open = (role: string, options: RedisOptions): Redis => {
    const all: RedisOptions = {
      ...target.options,
      ...RECONNECT,
      ...options,
      connectionName: `${name}:${role}`,
    };
    const client = target.url === undefined ? new Redis(all) : new Redis(target.url, all);
    let lastError = "";
    client.on("error", (error: Error) => {
      // ioredis repeats the same error on every reconnect attempt; log each change once
      if (error.message !== lastError)
        log.warn({ redis: role, err: error.message }, "redis connection error");
      lastError = error.message;
      lastErrors.set(role, error.message);
    });
    client.on("ready", () => {
      if (lastError !== "") log.info({ redis: role }, "redis connection restored");
      lastError = "";
      lastErrors.delete(role);
    });
    // Only close() ends these connections (bull is handed them through createClient and never closes
    // them). ioredis also ends one for good when a reconnect fails inside its Sentinel connector: its
    // failover detector (+switch-master) closing the connector while the reconnect asks the Sentinels for
    // the primary; every command then fails with "Connection is closed." So it is opened again.
    client.on("end", () => {
      if (closed) return;
      log.warn({ redis: role }, "redis connection ended by its client library; opening it again");
      const timer = setTimeout(() => {
        if (!closed && client.status === "end") client.connect().catch(() => undefined);
      }, 200);
      timer.unref();
    });
    opened.push(client);
    return client;
  };
  const failFast: RedisOptions = { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 1000 };
  const command = open("command", failFast);
  const producer = open("producer", failFast);
  // the ready check (on by default) holds bull's commands back while a restarted Redis loads its data
  const worker = open("worker", { maxRetriesPerRequest: null });
  corkEachTurn(command);
  const subscriber = open("subscriber", { maxRetriesPerRequest: null, enableReadyCheck: false });
  let closed = false;
  const waitUntilReady: RedisConnections["waitUntilReady"] = async ({
    onWaiting,
    logEveryMs = 5000,
  } = {}) => {
    const started = Date.now();
    let lastLog = 0; // the first wait is logged at once, then every logEveryMs
    for (;;) {
      const waiting = [command, producer, worker, subscriber].filter((client) => client.status !== "ready");
      let reason: string | undefined;
      if (waiting.length > 0) {
        const roles = waiting.map((client) => String(client.options.connectionName).split(":").pop());
        const errors = [...new Set(roles.map((role) => lastErrors.get(role ?? "")).filter(Boolean))];
        reason = `waiting for Redis at ${target.label} (${roles.join(", ")} not connected${
          errors.length > 0 ? `: ${errors.join("; ")}` : ""
        })`;
      } else {
        try {
          await checkRedis(command);
          return;
        } catch (error) {
          if (isAppError(error)) throw error;
          reason = `waiting for Redis at ${target.label}: ${error instanceof Error ? error.message : String(error)}`;
        }
      }
      if (closed) throw new AppError("REDIS_UNREACHABLE", `stopped while ${reason}`);
      onWaiting?.(reason);
      if (Date.now() - lastLog >= logEveryMs) {
        lastLog = Date.now();
        log.warn({ waitedMs: lastLog - started }, reason);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  return {
    command,
    producer,
    worker,
    subscriber,
    label: target.label,
    waitUntilReady,
    bullClientFactory(kind) {
      return (type) => {
        if (type === "client") return kind === "producer" ? producer : worker;
        if (type === "subscriber") return subscriber;
        return open(`bclient`, { maxRetriesPerRequest: null, enableReadyCheck: false });
      };
    },
    async close() {
      closed = true;
      await Promise.all(
        opened.map(async (client) => {
          if (client.status === "end") return;
          // QUIT on a connection that is away would wait in the offline queue for Redis to come back
          if (client.status !== "ready") {
            client.disconnect();
            return;
          }
          try {
            await client.quit();
          } catch {
            client.disconnect();
          }
        }),
      );
    },
  };
}

/**
 * Refuses to run on a Redis that may evict keys (an evicted job or de-duplication key is a lost or repeated
 * event). Run on a ready connection; a connection error is thrown as it is (the caller waits and retries).
 */
async function checkRedis(client: Redis): Promise<void> {
  const info = await client.info("memory");
  const policy = /maxmemory_policy:(\S+)/.exec(info)?.[1];
  if (policy !== undefined && policy !== "noeviction") {
    throw new AppError(
      "REDIS_EVICTION_POLICY",
      `Redis runs with maxmemory-policy ${policy}; Switchboard needs noeviction so that no event or job is ` +
        "ever evicted. Run `CONFIG SET maxmemory-policy noeviction` (and put it in redis.conf).",
    );
  }
}
