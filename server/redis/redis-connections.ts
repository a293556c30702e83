import { Redis, type RedisOptions } from "ioredis";
import { AppError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { corkEachTurn } from "./cork-turn.ts";

/**
 * The Redis connections of one process, shared the way bull's PATTERNS.md describes:
 * - `command`: our own commands (claims, admin reads). It fails fast while Redis is away (no offline
 *   queue, 1 s command timeout) so that /events answers 503 instead of hanging. The commands of one turn
 *   of the event loop leave in one write (cork-turn.ts): under load the claims of several requests share
 *   write calls (docs/BENCHMARKS.md). bull never uses it.
 * - `producer`: the producing queues' client (bull's adds, counts); fails fast like `command`.
 * - `worker`: the consuming queues' client, and the action runner's trace writes; it waits through
 *   reconnects (bull needs that).
 * - `subscriber`: one shared subscriber for every queue and for fleet pub/sub.
 * - blocking clients: one per consuming queue, made on demand, closed by `close()`.
 */
export interface RedisConnections {
  command: Redis;
  producer: Redis;
  worker: Redis;
  subscriber: Redis;
  /** for bull's `createClient` option */
  bullClientFactory(kind: "producer" | "consumer"): (type: string, redisOpts?: RedisOptions) => Redis;
  close(): Promise<void>;
}

const RECONNECT: RedisOptions = {
  retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
  reconnectOnError: (error) => error.message.startsWith("READONLY"),
};

/** `name` labels every connection (CLIENT LIST shows `<name>:command`, `<name>:worker`, ...). */
export function createRedisConnections(url: string, log: Logger, name = "switchboard"): RedisConnections {
  const opened: Redis[] = [];
  const open = (role: string, options: RedisOptions): Redis => {
    const client = new Redis(url, { ...RECONNECT, ...options, connectionName: `${name}:${role}` });
    let lastError = "";
    client.on("error", (error: Error) => {
      // ioredis repeats the same error on every reconnect attempt; log each change once
      if (error.message !== lastError)
        log.warn({ redis: role, err: error.message }, "redis connection error");
      lastError = error.message;
    });
    client.on("ready", () => {
      if (lastError !== "") log.info({ redis: role }, "redis connection restored");
      lastError = "";
    });
    opened.push(client);
    return client;
  };
  const failFast: RedisOptions = { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 1000 };
  const command = open("command", failFast);
  const producer = open("producer", failFast);
  const worker = open("worker", {
    maxRetriesPerRequest: null,
    enableReadyCheck: false,
  });
  corkEachTurn(command);
  const subscriber = open("subscriber", { maxRetriesPerRequest: null, enableReadyCheck: false });
  return {
    command,
    producer,
    worker,
    subscriber,
    bullClientFactory(kind) {
      return (type) => {
        if (type === "client") return kind === "producer" ? producer : worker;
        if (type === "subscriber") return subscriber;
        return open(`bclient`, { maxRetriesPerRequest: null, enableReadyCheck: false });
      };
    },
    async close() {
      await Promise.all(
        opened.map(async (client) => {
          if (client.status === "end") return;
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
 * Waits until Redis answers, then refuses to run on a Redis that may evict keys: an evicted job or
 * de-duplication key is a lost or repeated event.
 */
export async function checkRedis(client: Redis, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let info = "";
  for (;;) {
    try {
      // INFO is allowed on a connection still connecting: wait for ready, or the next command fails
      if (client.status !== "ready") throw new Error(`the connection is ${client.status}`);
      info = await client.info("memory");
      break;
    } catch (error) {
      if (Date.now() > deadline) {
        throw new AppError(
          "REDIS_UNREACHABLE",
          `Redis did not answer within ${timeoutMs} ms: ${String(error)}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  const policy = /maxmemory_policy:(\S+)/.exec(info)?.[1];
  if (policy !== undefined && policy !== "noeviction") {
    throw new AppError(
      "REDIS_EVICTION_POLICY",
      `Redis runs with maxmemory-policy ${policy}; Switchboard needs noeviction so that no event or job is ` +
        "ever evicted. Run `CONFIG SET maxmemory-policy noeviction` (and put it in redis.conf).",
    );
  }
}
