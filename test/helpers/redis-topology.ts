/**
 * Real Redis topologies on 127.0.0.1 for the replication and failover tests: a primary with replicas
 * (redis-server processes) and a Sentinel (redis-sentinel, Debian's package, which scripts/ensure-redis.sh
 * installs). Every process runs on a free port in its own scratch folder, and is stopped by its PID
 * (`stop()`, or when the test process exits, whatever happened).
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { startEmbeddedRedis, type EmbeddedRedis } from "../../server/redis/embedded-redis.ts";
import { findFreePort } from "../../server/redis/find-free-port.ts";
import { createLogSink } from "./log-sink.ts";
import { isRunning } from "./process.ts";

export interface RedisNode extends EmbeddedRedis {
  port: number;
  /** kill -9 (no AOF flush, no goodbye to replicas or Sentinel) */
  kill(): void;
}

export interface Sentinel {
  port: number;
  pid: number;
  /** the primary's port as this Sentinel sees it now */
  primaryPort(): Promise<number>;
  /** how many replicas of the primary this Sentinel knows */
  knownReplicas(): Promise<number>;
  stop(): Promise<void>;
}

export interface Topology {
  primary: RedisNode;
  replicas: RedisNode[];
  sentinel: Sentinel | undefined;
  masterName: string;
  /** starts one more replica of the primary (online when this resolves) */
  addReplica(): Promise<RedisNode>;
  /** stops every process by its PID and removes the scratch folders */
  stop(): Promise<void>;
}

const log = createLogSink("warn").log;

export function hasRedisSentinel(): boolean {
  return spawnSync("redis-sentinel", ["--version"], { stdio: "ignore" }).status === 0;
}

async function startNode(dir: string, args: string[] = []): Promise<RedisNode> {
  mkdirSync(dir, { recursive: true });
  const port = await findFreePort();
  const server = await startEmbeddedRedis({
    dir,
    log,
    port,
    args: ["--appendonly", "no", "--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0", ...args],
  });
  return {
    ...server,
    port,
    kill() {
      try {
        process.kill(server.pid, "SIGKILL");
      } catch {
        // already gone
      }
    },
  };
}

/** Polls the primary until `count` replicas are online. */
export async function waitForReplicas(port: number, count: number, timeoutMs = 20_000): Promise<void> {
  const client = new Redis(port, "127.0.0.1", { maxRetriesPerRequest: 1, lazyConnect: true });
  const deadline = Date.now() + timeoutMs;
  try {
    await client.connect();
    for (;;) {
      const info = await client.info("replication");
      const online = info.split("\n").filter((line) => /^slave\d+:.*state=online/.test(line)).length;
      if (online >= count) return;
      if (Date.now() > deadline) throw new Error(`only ${online} of ${count} replicas online:\n${info}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    client.disconnect();
  }
}

async function startSentinel(dir: string, masterName: string, primaryPort: number): Promise<Sentinel> {
  const port = await findFreePort();
  const file = path.join(dir, "sentinel.conf");
  writeFileSync(
    file,
    [
      `port ${port}`,
      "bind 127.0.0.1",
      "daemonize no",
      `dir ${dir}`,
      `sentinel monitor ${masterName} 127.0.0.1 ${primaryPort} 1`,
      `sentinel down-after-milliseconds ${masterName} 1000`,
      `sentinel failover-timeout ${masterName} 10000`,
      `sentinel parallel-syncs ${masterName} 2`,
      "",
    ].join("\n"),
  );
  const child = spawn("redis-sentinel", [file], { stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`redis-sentinel did not start: ${output.slice(-500)}`));
    }, 10_000);
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("+monitor master")) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-sentinel exited with code ${code}: ${output.slice(-500)}`));
    });
  });
  const client = new Redis(port, "127.0.0.1", { maxRetriesPerRequest: 1 });
  return {
    port,
    pid: child.pid ?? -1,
    async primaryPort() {
      const address = (await client.call("SENTINEL", "get-master-addr-by-name", masterName)) as string[];
      return Number(address[1]);
    },
    async knownReplicas() {
      return ((await client.call("SENTINEL", "replicas", masterName)) as unknown[]).length;
    },
    async stop() {
      client.disconnect();
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

/**
 * A primary, `replicas` replicas (online when this resolves) and, with `sentinel`, one Sentinel that
 * monitors them (quorum 1, the primary is down after 1 s without an answer). Stopped after the file's tests.
 */
export async function startTopology(options: { replicas: number; sentinel: boolean }): Promise<Topology> {
  const root = mkdtempSync(path.join(os.tmpdir(), "switchboard-topology-"));
  const nodes: RedisNode[] = [];
  let sentinel: Sentinel | undefined;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      await sentinel?.stop();
      for (const node of nodes) await node.stop();
      rmSync(root, { recursive: true, force: true });
    })());
  // tests call stop() in their own after hook, once their services are closed (a service stopping after
  // its Redis has gone waits for it); should they not get there, the processes die with this one
  process.once("exit", () => {
    for (const pid of [...nodes.map((node) => node.pid), sentinel?.pid ?? -1]) {
      if (pid > 0 && isRunning(pid)) process.kill(pid, "SIGKILL");
    }
    rmSync(root, { recursive: true, force: true });
  });
  const primary = await startNode(path.join(root, "primary"));
  nodes.push(primary);
  const replicas: RedisNode[] = [];
  const addReplica = async (): Promise<RedisNode> => {
    const replica = await startNode(path.join(root, `replica-${nodes.length}`), [
      "--replicaof",
      "127.0.0.1",
      String(primary.port),
    ]);
    nodes.push(replica);
    replicas.push(replica);
    await waitForReplicas(primary.port, replicas.filter((node) => isRunning(node.pid)).length);
    return replica;
  };
  for (let i = 0; i < options.replicas; i += 1) await addReplica();
  const masterName = "sb-test";
  if (options.sentinel) sentinel = await startSentinel(root, masterName, primary.port);
  return { primary, replicas, sentinel, masterName, addReplica, stop };
}
