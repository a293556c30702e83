/** The faults: each starts its processes, runs the load, injects the fault, recovers, and counts. */
import { mkdirSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { startEmbeddedRedis, type EmbeddedRedis } from "../../server/redis/embedded-redis.ts";
import { startTopology, type Topology } from "../../test/helpers/redis-topology.ts";
import { ROOT } from "../lib/processes.ts";
import { OUTAGE_MS, note, quiet, sleep, until } from "./common.ts";
import type { Destination } from "./destination.ts";
import { startInstance } from "./instances.ts";
import { acknowledgedAtLeast, startLoad } from "./load.ts";
import { settle, type Result, type Setup } from "./settle.ts";

export async function withRedis<T>(dir: string, run: (redis: EmbeddedRedis) => Promise<T>): Promise<T> {
  const redis = await startEmbeddedRedis({ dir: path.join(dir, "redis"), log: quiet });
  try {
    return await run(redis);
  } finally {
    await redis.stop();
  }
}

export function writeRules(dir: string, destination: Destination): Record<string, string> {
  const rulesDir = path.join(dir, "rules");
  mkdirSync(rulesDir, { recursive: true });
  writeFileSync(
    path.join(rulesDir, "drill.json"),
    JSON.stringify(
      {
        rules: [
          {
            id: "greet",
            on: "StartApp",
            path: "/answer/**",
            actions: [{ type: "respond", xml: "<Response><Speak>Drill</Speak></Response>" }],
          },
          {
            id: "crm",
            on: ["Hangup", "StartApp"],
            actions: [
              {
                type: "forward",
                url: `${destination.url}/hook?call=<<CallUUID>>`,
                timeout: "5s",
                // enough attempts to outlast the destination's outage (an open breaker spends none)
                retry: { attempts: 12, backoff: "exponential", delay: "1s", max_delay: "30s" },
              },
            ],
          },
        ],
      },
      null,
      2,
    ),
  );
  return { RULES_DIR: rulesDir, TEMPLATES_DIR: path.join(ROOT, "templates") };
}

export type ScenarioRun = (setup: Setup) => Promise<Result>;

export const scenarios: Record<string, { fault: string; run: ScenarioRun }> = {
  "web-kill": {
    fault: "kill -9 of one of two ROLE=web processes under load, restarted on its port",
    run: (setup) =>
      withRedis(setup.dir, async (redis) => {
        const env = { ...setup.rulesEnv, REDIS_URL: redis.url, DATA_DIR: path.join(setup.dir, "var") };
        const webs = [
          await startInstance("web-1", "web", env, setup.logDir),
          await startInstance("web-2", "web", env, setup.logDir),
        ];
        const worker = await startInstance("worker-1", "worker", env, setup.logDir);
        const started = Date.now();
        const load = startLoad(setup.scenario, () => webs.map((web) => web.url));
        const notes: string[] = [];
        try {
          await acknowledgedAtLeast(load, 200);
          note(setup.scenario, `kill -9 of web-1 (pid ${webs[0]!.pid}) with requests in flight`);
          await webs[0]!.kill();
          const killedAt = Date.now();
          webs[0] = await startInstance("web-1b", "web", env, setup.logDir, webs[0]!.port);
          notes.push(
            `web-1 restarted and ready ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill`,
          );
          const before = load.acknowledged();
          await acknowledgedAtLeast(load, before + 200);
          return await settle(setup, faultOf("web-kill"), load, () => webs[1]!, started, 120_000, notes);
        } finally {
          await load.stop();
          for (const instance of [...webs, worker]) await instance.stop();
        }
      }),
  },
  "worker-kill": {
    fault:
      "kill -9 of one of two ROLE=worker processes with deliveries in flight (destination answers in 200 ms), a replacement started",
    run: (setup) =>
      withRedis(setup.dir, async (redis) => {
        const env = { ...setup.rulesEnv, REDIS_URL: redis.url, DATA_DIR: path.join(setup.dir, "var") };
        const web = await startInstance("web-1", "web", env, setup.logDir);
        const workers = [
          await startInstance("worker-1", "worker", env, setup.logDir),
          await startInstance("worker-2", "worker", env, setup.logDir),
        ];
        const started = Date.now();
        const load = startLoad(setup.scenario, () => [web.url]);
        const notes: string[] = [];
        try {
          await acknowledgedAtLeast(load, 200);
          note(setup.scenario, `kill -9 of worker-1 (pid ${workers[0]!.pid})`);
          await workers[0]!.kill();
          workers[0] = await startInstance("worker-1b", "worker", env, setup.logDir);
          const before = load.acknowledged();
          await acknowledgedAtLeast(load, before + 200);
          return await settle(setup, faultOf("worker-kill"), load, () => web, started, 120_000, notes);
        } finally {
          await load.stop();
          for (const instance of [web, ...workers]) await instance.stop();
        }
      }),
  },
  "redis-restart": {
    fault: "Redis stopped (SIGTERM, AOF flushed) for 5 s under load, then started again on its port",
    run: async (setup) => {
      const redisDir = path.join(setup.dir, "redis");
      let redis = await startEmbeddedRedis({ dir: redisDir, log: quiet });
      const port = Number(new URL(redis.url).port);
      const env = { ...setup.rulesEnv, REDIS_URL: redis.url, DATA_DIR: path.join(setup.dir, "var") };
      const web = await startInstance("web-1", "web", env, setup.logDir);
      const worker = await startInstance("worker-1", "worker", env, setup.logDir);
      const started = Date.now();
      const load = startLoad(setup.scenario, () => [web.url]);
      const notes: string[] = [];
      try {
        await acknowledgedAtLeast(load, 200);
        note(setup.scenario, "stopping Redis");
        await redis.stop();
        await sleep(5000); // the outage itself
        redis = await startEmbeddedRedis({ dir: redisDir, log: quiet, port });
        const back = Date.now();
        await until(
          "the web instance ready again",
          async () => ((await fetch(`${web.url}/ready`)).status === 200 ? true : undefined),
          60_000,
        );
        notes.push(`ready ${((Date.now() - back) / 1000).toFixed(1)} s after Redis was back`);
        const before = load.acknowledged();
        await acknowledgedAtLeast(load, before + 200);
        return await settle(setup, faultOf("redis-restart"), load, () => web, started, 120_000, notes);
      } finally {
        await load.stop();
        await web.stop();
        await worker.stop();
        await redis.stop();
      }
    },
  },
  failover: {
    fault:
      "Sentinel failover: kill -9 of the primary (2 replicas, 1 Sentinel), REDIS_MIN_REPLICAS=1, REDIS_MIN_REPLICAS_TIMEOUT=900ms",
    run: async (setup) => {
      const topology: Topology = await startTopology({ replicas: 2, sentinel: true });
      const sentinel = topology.sentinel!;
      const env = {
        ...setup.rulesEnv,
        REDIS_SENTINELS: `127.0.0.1:${sentinel.port}`,
        REDIS_SENTINEL_NAME: topology.masterName,
        REDIS_MIN_REPLICAS: "1",
        REDIS_MIN_REPLICAS_TIMEOUT: "900ms",
        DATA_DIR: path.join(setup.dir, "var"),
      };
      const web = await startInstance("web-1", "web", env, setup.logDir);
      const worker = await startInstance("worker-1", "worker", env, setup.logDir);
      const started = Date.now();
      const load = startLoad(setup.scenario, () => [web.url]);
      const notes: string[] = [];
      try {
        await acknowledgedAtLeast(load, 200);
        await until(
          "Sentinel knows both replicas",
          async () => ((await sentinel.knownReplicas()) === 2 ? true : undefined),
          30_000,
        );
        note(setup.scenario, `kill -9 of the primary (pid ${topology.primary.pid})`);
        const killedAt = Date.now();
        topology.primary.kill();
        await until(
          "Sentinel promotes a replica",
          async () => ((await sentinel.primaryPort()) !== topology.primary.port ? true : undefined),
          60_000,
        );
        const promotedAt = Date.now();
        await until(
          "the web instance ready again",
          async () => ((await fetch(`${web.url}/ready`)).status === 200 ? true : undefined),
          60_000,
        );
        notes.push(
          `promoted ${((promotedAt - killedAt) / 1000).toFixed(1)} s after the kill, ready ` +
            `${((Date.now() - promotedAt) / 1000).toFixed(1)} s after the promotion`,
        );
        const before = load.acknowledged();
        await acknowledgedAtLeast(load, before + 200);
        return await settle(setup, faultOf("failover"), load, () => web, started, 180_000, notes);
      } finally {
        await load.stop();
        await web.stop();
        await worker.stop();
        await topology.stop();
      }
    },
  },
  "destination-down": {
    fault: `the forward destination refuses connections for ${OUTAGE_MS / 1000} s under load (retry: 12 attempts, 1 s exponential, at most 30 s; breaker: 10 failures)`,
    run: (setup) =>
      withRedis(setup.dir, async (redis) => {
        const env = { ...setup.rulesEnv, REDIS_URL: redis.url, DATA_DIR: path.join(setup.dir, "var") };
        const web = await startInstance("web-1", "web", env, setup.logDir);
        const worker = await startInstance("worker-1", "worker", env, setup.logDir);
        const started = Date.now();
        const load = startLoad(setup.scenario, () => [web.url]);
        const notes: string[] = [];
        try {
          await acknowledgedAtLeast(load, 100);
          note(setup.scenario, `destination down for ${OUTAGE_MS / 1000} s`);
          await setup.destination.down();
          await sleep(OUTAGE_MS); // the outage itself
          await setup.destination.up();
          const upAt = Date.now();
          note(setup.scenario, "destination up again");
          const before = load.acknowledged();
          await acknowledgedAtLeast(load, before + 100);
          const result = await settle(
            setup,
            faultOf("destination-down"),
            load,
            () => web,
            started,
            420_000,
            notes,
          );
          if (result.lost === 0)
            notes.push(
              `everything delivered ${((Date.now() - upAt) / 1000).toFixed(0)} s after the destination came back`,
            );
          return result;
        } finally {
          await load.stop();
          await web.stop();
          await worker.stop();
        }
      }),
  },
  "journal-full": {
    fault:
      "answer journal on a full 64 KiB tmpfs (ENOSPC on every append) while Redis is stopped for 8 s under load; /answer only",
    run: async (setup) => {
      const journal = path.join(setup.dir, "var", "journal");
      mkdirSync(journal, { recursive: true });
      const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", journal], {
        encoding: "utf8",
      });
      if (mounted.status !== 0) throw new Skip(`cannot mount a tmpfs (needs root): ${mounted.stderr.trim()}`);
      try {
        // fill it: the journal's appends fail with ENOSPC from the first byte
        spawnSync("dd", ["if=/dev/zero", `of=${path.join(journal, "filler")}`, "bs=4k"], { stdio: "ignore" });
        const redisDir = path.join(setup.dir, "redis");
        let redis = await startEmbeddedRedis({ dir: redisDir, log: quiet });
        const port = Number(new URL(redis.url).port);
        const env = { ...setup.rulesEnv, REDIS_URL: redis.url, DATA_DIR: path.join(setup.dir, "var") };
        const web = await startInstance("web-1", "web", env, setup.logDir);
        const worker = await startInstance("worker-1", "worker", env, setup.logDir);
        const started = Date.now();
        const load = startLoad(setup.scenario, () => [web.url], 1);
        const notes: string[] = [];
        try {
          await acknowledgedAtLeast(load, 100);
          note(setup.scenario, "stopping Redis (the journal's disk is full)");
          await redis.stop();
          await sleep(8000); // the outage itself
          redis = await startEmbeddedRedis({ dir: redisDir, log: quiet, port });
          const before = load.acknowledged();
          await acknowledgedAtLeast(load, before + 100);
          const result = await settle(
            setup,
            faultOf("journal-full"),
            load,
            () => web,
            started,
            120_000,
            notes,
          );
          notes.push(
            `${web.logCount("could not append to the answer journal")} /answer events could not be journaled ` +
              "(ENOSPC) and were held in memory until Redis was back",
          );
          return result;
        } finally {
          await load.stop();
          await web.stop();
          await worker.stop();
          await redis.stop();
        }
      } finally {
        spawnSync("umount", ["-l", journal]);
      }
    },
  },
};

export function faultOf(name: string): string {
  return scenarios[name]!.fault;
}

export class Skip extends Error {}
