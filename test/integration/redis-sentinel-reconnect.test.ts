/**
 * A connection that ioredis gives up on is opened again. ioredis ends a Sentinel connection for good when
 * its failover detector (a +switch-master from a Sentinel) closes the connector while a reconnect is asking
 * the Sentinels for the primary: every command then fails with "Connection is closed." and /ready stays 503
 * (seen after a failover under load, issue 18). Here the detector's step is taken at that very moment.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { createRedisConnections, type RedisConnections } from "../../server/redis/redis-connections.ts";
import { createLogSink } from "../helpers/log-sink.ts";
import { hasRedisSentinel, startTopology } from "../helpers/redis-topology.ts";

assert.ok(hasRedisSentinel(), "redis-sentinel is not installed: run `bash scripts/ensure-redis.sh` as root");
const topology = await startTopology({ replicas: 0, sentinel: true });
const logs = createLogSink("warn");
const connections: RedisConnections = createRedisConnections(undefined, logs.log, "sentinel-reconnect", {
  sentinels: [{ host: "127.0.0.1", port: topology.sentinel?.port ?? 0 }],
  sentinelName: topology.masterName,
  sentinelUsername: undefined,
  sentinelPassword: undefined,
  username: undefined,
  password: undefined,
  tls: false,
  sentinelTls: false,
  tlsCaFile: undefined,
  minReplicas: 0,
  minReplicasTimeoutMs: 500,
});
after(async () => {
  await connections.close();
  await topology.stop();
});

test("a Sentinel connection ended by a failover notice during its reconnect is opened again", async () => {
  await connections.waitUntilReady();
  const client = connections.command;
  const { connector } = client as unknown as { connector: { disconnect(): void } };
  client.once("connecting", () => connector.disconnect());
  client.disconnect(true);
  const deadline = Date.now() + 30_000;
  let last = "";
  for (;;) {
    try {
      if ((await client.ping()) === "PONG") break;
    } catch (error) {
      last = `${client.status}: ${String(error)}`;
    }
    assert.ok(Date.now() < deadline, `the command connection never came back (${last})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.ok(
    logs
      .lines()
      .some((line) => line.msg === "redis connection ended by its client library; opening it again"),
    "the reopening is logged",
  );
});
