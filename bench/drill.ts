/**
 * The fault drill (issue 18 item 7), run on demand, never in CI: `npm run drill [-- scenario ...]` or
 * `npx tsx bench/drill.ts [scenario ...]`. Scenarios: web-kill, worker-kill, redis-restart, failover,
 * destination-down, journal-full (default: all, in that order; about 10 minutes on a busy 2-core machine).
 *
 * Real processes: ROLE=web and ROLE=worker instances of `server/main.ts` as separate child processes, real
 * redis-server (and, for the failover, redis-sentinel) processes, and a real HTTP destination in this
 * process that counts deliveries by event and Idempotency-Key. Steady signed load (Hangup to /events, and
 * one in four a StartApp to /answer) runs before, during and after each fault; a request that got no 200
 * is sent again, byte-identical, up to 3 times (as Vobiz retries a callback). Then the drill waits (bounded)
 * until every acknowledged event is delivered and the queues are empty, and counts per scenario: events
 * sent, acknowledged (200), processed (delivered), lost (acknowledged, never delivered: must be 0), and
 * events delivered more than once, split by whether every delivery carried the same Idempotency-Key
 * (allowed: the receiver can tell) or not (a bug). Every process is stopped by its PID.
 *
 * DRILL_OUTAGE (default 120s) is how long the destination stays down; DRILL_RATE (default 40) the
 * events/s the senders aim at; DRILL_OUT a file for the Markdown table (default: a file in the OS temp
 * folder, printed at the end). The journal-full scenario mounts a tiny tmpfs (needs root); without root
 * it is skipped and says so.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import os from "node:os";
import path from "node:path";
import { pino } from "pino";
import { startEmbeddedRedis, type EmbeddedRedis } from "../server/redis/embedded-redis.ts";
import { findFreePort } from "../server/redis/find-free-port.ts";
import { signRequest, signatureBaseUrl } from "../server/signatures/vobiz-signature.ts";
import { startTopology, type Topology } from "../test/helpers/redis-topology.ts";
import { ROOT } from "./lib/processes.ts";

const TOKEN = "drill-auth-token";
const ADMIN = "drill-admin-token-0123456789";
const PUBLIC_URL = "https://switchboard.drill.example";
const OUTAGE_MS = parseSeconds(process.env.DRILL_OUTAGE ?? "120s");
const RATE = Number(process.env.DRILL_RATE ?? 40);
const quiet = pino({ level: "warn" });

function parseSeconds(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (match === null) throw new Error(`DRILL_OUTAGE=${text}: expected a duration such as 90s or 3m`);
  const unit = match[2] === "ms" ? 1 : match[2] === "m" ? 60_000 : 1000;
  return Number(match[1]) * unit;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `attempt` until it returns a value (not undefined), every 100 ms, for at most `timeoutMs`. */
async function until<T>(what: string, attempt: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await attempt().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

function note(scenario: string, text: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${scenario}: ${text}\n`);
}

// ---------------------------------------------------------------------------------------------------
// processes

const children = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});

interface Instance {
  name: string;
  role: "web" | "worker";
  port: number;
  url: string;
  pid: number;
  /** kill -9 */
  kill(): Promise<void>;
  /** SIGTERM, then SIGKILL after 20 s */
  stop(): Promise<void>;
  /** lines of its log (JSON) that contain `text` */
  logCount(text: string): number;
}

/** Starts `node --import tsx server/main.ts` with ROLE=`role`; resolves once it is ready (web: /ready 200). */
async function startInstance(
  name: string,
  role: "web" | "worker",
  env: Record<string, string>,
  logDir: string,
  port?: number,
): Promise<Instance> {
  const chosen = port ?? (await findFreePort());
  const child = spawn(process.execPath, ["--import", "tsx", "server/main.ts"], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/root",
      ROLE: role,
      PORT: String(chosen),
      HOST: "127.0.0.1",
      PUBLIC_URL,
      VOBIZ_AUTH_TOKEN: TOKEN,
      ADMIN_TOKEN: ADMIN,
      LOG_LEVEL: "info",
      JOB_LOCK_TIMEOUT: "5s",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  const file = createWriteStream(path.join(logDir, `${name}-${child.pid}.log`));
  let text = "";
  const keep = (chunk: Buffer): void => {
    file.write(chunk);
    text += chunk.toString();
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const exited = new Promise<void>((resolve) =>
    child.once("exit", () => {
      children.delete(child);
      file.end();
      resolve();
    }),
  );
  const url = `http://127.0.0.1:${chosen}`;
  const gone = (): boolean => child.exitCode !== null || child.signalCode !== null;
  await until(
    `${name} ready`,
    async () => {
      if (gone()) throw new Error(`${name} exited: ${text.slice(-2000)}`);
      if (role === "worker") return text.includes('"workers started"') ? true : undefined;
      return (await fetch(`${url}/ready`)).status === 200 ? true : undefined;
    },
    60_000,
  ).catch((error: unknown) => {
    if (gone()) throw new Error(`${name} exited before it was ready; its log:\n${text.slice(-2000)}`);
    throw error;
  });
  return {
    name,
    role,
    port: chosen,
    url,
    pid: child.pid ?? -1,
    async kill() {
      if (!gone()) child.kill("SIGKILL");
      await exited;
    },
    async stop() {
      if (gone()) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
      await exited;
      clearTimeout(timer);
    },
    logCount(needle) {
      return text.split("\n").filter((line) => line.includes(needle)).length;
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// the destination

interface Destination {
  url: string;
  /** CallUUID -> the Idempotency-Key of each delivery, in order */
  deliveries: Map<string, string[]>;
  total(): number;
  /** stops listening and drops every connection (the port refuses connections) */
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

/** Answers 200 after `delayMs` to every request, and records it by its `call` query parameter. */
async function startDestination(delayMs: number): Promise<Destination> {
  const deliveries = new Map<string, string[]>();
  let total = 0;
  const port = await findFreePort();
  let server: Server | undefined;
  const listen = async (): Promise<void> => {
    const created = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        const call = new URL(req.url ?? "/", "http://x").searchParams.get("call") ?? "?";
        const key = String(req.headers["idempotency-key"] ?? "");
        const answer = (): void => {
          total += 1;
          const keys = deliveries.get(call) ?? [];
          keys.push(key);
          deliveries.set(call, keys);
          res.end("ok");
        };
        // counted when answered: a delivery the destination never answered is not a delivery
        if (delayMs > 0) setTimeout(answer, delayMs);
        else answer();
      });
    });
    created.listen(port, "127.0.0.1");
    await once(created, "listening");
    server = created;
  };
  const down = async (): Promise<void> => {
    const current = server;
    server = undefined;
    if (current === undefined) return;
    const closed = new Promise<void>((resolve) => current.close(() => resolve()));
    current.closeAllConnections();
    await closed;
  };
  await listen();
  return {
    url: `http://127.0.0.1:${port}`,
    deliveries,
    total: () => total,
    down,
    up: listen,
    close: down,
  };
}

// ---------------------------------------------------------------------------------------------------
// the load

interface Outcome {
  kind: "event" | "answer";
  requests: number;
  /** got a 200 (for /answer: with the rule's XML) */
  acknowledged: boolean;
  statuses: string[];
}

interface Load {
  outcomes: Map<string, Outcome>;
  acknowledged(): number;
  /** stops sending new events and waits for the retries of those sent */
  stop(): Promise<void>;
}

/**
 * Senders that aim at `RATE` events/s over `targets()` (round-robin; a retry goes to the next one). A
 * request that got no 200 within 5 s, or a 503, is sent again byte-identical (freshly signed) after 1, 2
 * and 4 s, as Vobiz does; the lane goes on sending new events meanwhile.
 */
function startLoad(scenario: string, targets: () => string[], answerShare = 0.25): Load {
  const outcomes = new Map<string, Outcome>();
  const retries = new Set<Promise<void>>();
  let stopping = false;
  let sequence = 0;
  const lanes = 8;
  const send = async (call: string, outcome: Outcome, body: string, attempt: number): Promise<void> => {
    const list = targets();
    const target = list[(sequence + attempt) % list.length]!;
    const pathname = outcome.kind === "answer" ? "/answer/main" : "/events";
    outcome.requests += 1;
    let status: string;
    try {
      const response = await fetch(`${target}${pathname}`, {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          ...signRequest(signatureBaseUrl(PUBLIC_URL, pathname), TOKEN),
        },
        body,
        signal: AbortSignal.timeout(5000),
      });
      const text = await response.text();
      status = String(response.status);
      if (response.status === 200 && (outcome.kind === "event" || text.includes("<Speak>Drill</Speak>"))) {
        outcome.acknowledged = true;
      } else if (response.status === 200) {
        status = "200 without the rule's XML";
      }
    } catch {
      status = "no answer";
    }
    outcome.statuses.push(status);
    if (outcome.acknowledged || attempt >= 3) return;
    const retry = (async () => {
      await sleep(1000 * 2 ** attempt);
      await send(call, outcome, body, attempt + 1);
    })();
    retries.add(retry);
    void retry.finally(() => retries.delete(retry));
  };
  const lane = async (): Promise<void> => {
    const gap = (1000 * lanes) / RATE;
    while (!stopping) {
      const started = Date.now();
      sequence += 1;
      const call = `drill-${scenario}-${sequence}`;
      const kind = Math.random() < answerShare ? "answer" : "event";
      const outcome: Outcome = { kind, requests: 0, acknowledged: false, statuses: [] };
      outcomes.set(call, outcome);
      const fields: Record<string, string> =
        kind === "answer"
          ? {
              Event: "StartApp",
              CallUUID: call,
              From: "919876543210",
              To: "918000000000",
              CallStatus: "in-progress",
            }
          : {
              Event: "Hangup",
              CallUUID: call,
              From: "919876543210",
              To: "918000000000",
              CallStatus: "completed",
              Duration: "42",
              HangupCause: "NORMAL_CLEARING",
            };
      await send(call, outcome, new URLSearchParams(fields).toString(), 0);
      await sleep(Math.max(0, gap - (Date.now() - started)));
    }
  };
  const running = Array.from({ length: lanes }, () => lane());
  return {
    outcomes,
    acknowledged: () => [...outcomes.values()].filter((outcome) => outcome.acknowledged).length,
    async stop() {
      stopping = true;
      await Promise.all(running);
      while (retries.size > 0) await Promise.all([...retries]);
    },
  };
}

async function acknowledgedAtLeast(load: Load, count: number, timeoutMs = 120_000): Promise<void> {
  await until(
    `${count} acknowledged events`,
    () => Promise.resolve(load.acknowledged() >= count ? true : undefined),
    timeoutMs,
  );
}

// ---------------------------------------------------------------------------------------------------
// scenarios

interface Setup {
  scenario: string;
  dir: string;
  logDir: string;
  destination: Destination;
  rulesEnv: Record<string, string>;
}

interface Result {
  scenario: string;
  fault: string;
  sent: number;
  requests: number;
  acknowledged: number;
  processed: number;
  lost: number;
  /** delivered although the sender never got a 200 (stored, the answer lost) */
  processedUnacknowledged: number;
  duplicatedSameKey: number;
  duplicatedOtherKey: number;
  deadLetters: number;
  seconds: number;
  notes: string[];
  lostIds: string[];
}

function writeRules(dir: string, destination: Destination): Record<string, string> {
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

async function queueIdle(web: Instance): Promise<{ idle: boolean; deadLetters: number }> {
  const text = await (await fetch(`${web.url}/metrics`)).text();
  let busy = 0;
  let deadLetters = 0;
  for (const line of text.split("\n")) {
    const depth =
      /^switchboard_queue_depth\{[^}]*state="(wait|waiting|active|delayed|paused)"[^}]*\} (\d+)/.exec(line);
    if (depth !== null) busy += Number(depth[2]);
    const dead = /^switchboard_dead_letters\S* (\d+)/.exec(line);
    if (dead !== null) deadLetters = Number(dead[1]);
  }
  return { idle: busy === 0, deadLetters };
}

/** Waits until every acknowledged event is delivered and the queues are empty, then counts. */
async function settle(
  setup: Setup,
  fault: string,
  load: Load,
  web: () => Instance,
  started: number,
  timeoutMs: number,
  notes: string[],
): Promise<Result> {
  const { destination, scenario } = setup;
  note(
    scenario,
    `load stopped; waiting for every acknowledged event to be delivered (at most ${timeoutMs / 1000} s)`,
  );
  await load.stop();
  const acked = [...load.outcomes].filter(([, outcome]) => outcome.acknowledged).map(([call]) => call);
  let deadLetters = 0;
  try {
    await until(
      "every acknowledged event delivered and the queues empty",
      async () => {
        if (!acked.every((call) => destination.deliveries.has(call))) return undefined;
        const state = await queueIdle(web());
        deadLetters = state.deadLetters;
        return state.idle ? true : undefined;
      },
      timeoutMs,
    );
  } catch (error) {
    notes.push(String(error instanceof Error ? error.message : error));
    deadLetters = (await queueIdle(web()).catch(() => ({ deadLetters: -1 }))).deadLetters;
  }
  const lostIds = acked.filter((call) => !destination.deliveries.has(call));
  let duplicatedSameKey = 0;
  let duplicatedOtherKey = 0;
  for (const keys of destination.deliveries.values()) {
    if (keys.length < 2) continue;
    if (new Set(keys).size === 1) duplicatedSameKey += 1;
    else duplicatedOtherKey += 1;
  }
  const outcomes = [...load.outcomes.values()];
  return {
    scenario,
    fault,
    sent: outcomes.length,
    requests: outcomes.reduce((sum, outcome) => sum + outcome.requests, 0),
    acknowledged: acked.length,
    processed: [...load.outcomes.keys()].filter((call) => destination.deliveries.has(call)).length,
    lost: lostIds.length,
    processedUnacknowledged: [...load.outcomes].filter(
      ([call, outcome]) => !outcome.acknowledged && destination.deliveries.has(call),
    ).length,
    duplicatedSameKey,
    duplicatedOtherKey,
    deadLetters,
    seconds: Math.round((Date.now() - started) / 1000),
    notes,
    lostIds,
  };
}

async function withRedis<T>(dir: string, run: (redis: EmbeddedRedis) => Promise<T>): Promise<T> {
  const redis = await startEmbeddedRedis({ dir: path.join(dir, "redis"), log: quiet });
  try {
    return await run(redis);
  } finally {
    await redis.stop();
  }
}

type ScenarioRun = (setup: Setup) => Promise<Result>;

const scenarios: Record<string, { fault: string; run: ScenarioRun }> = {
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
            `${web.logCount("could not append to the answer journal")} appends failed (ENOSPC), ` +
              `${web.logCount("answer event journaled")} events journaled`,
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

function faultOf(name: string): string {
  return scenarios[name]!.fault;
}

class Skip extends Error {}

function table(results: Result[]): string {
  const rows = results.map(
    (r) =>
      `| ${r.scenario} | ${r.sent} | ${r.requests} | ${r.acknowledged} | ${r.processed} | **${r.lost}** | ` +
      `${r.processedUnacknowledged} | ${r.duplicatedSameKey} | ${r.duplicatedOtherKey} | ${r.deadLetters} | ${r.seconds} s |`,
  );
  const faults = results.map(
    (r) =>
      `- **${r.scenario}**: ${r.fault}.${r.notes.map((n) => ` ${n}.`).join("")}` +
      (r.lost > 0 ? ` Lost: ${r.lostIds.slice(0, 10).join(", ")}.` : ""),
  );
  return [
    "| scenario | events sent | requests | acknowledged (200) | processed (delivered) | lost | delivered without a 200 | delivered twice, same Idempotency-Key | delivered twice, different keys | dead letters | duration |",
    "|---|---|---|---|---|---|---|---|---|---|---|",
    ...rows,
    "",
    ...faults,
  ].join("\n");
}

async function main(): Promise<void> {
  const asked = process.argv.slice(2).filter((arg) => arg !== "--");
  const names = asked.length > 0 ? asked : Object.keys(scenarios);
  for (const name of names) {
    if (!(name in scenarios)) {
      process.stderr.write(`unknown scenario ${name}; try: ${Object.keys(scenarios).join(", ")}\n`);
      process.exitCode = 2;
      return;
    }
  }
  const root = mkdtempSync(path.join(os.tmpdir(), "switchboard-drill-"));
  const results: Result[] = [];
  const skipped: string[] = [];
  const failed: string[] = [];
  const begun = new Date();
  for (const name of names) {
    const dir = path.join(root, name);
    const logDir = path.join(dir, "logs");
    mkdirSync(logDir, { recursive: true });
    const destination = await startDestination(name === "worker-kill" ? 200 : 0);
    const setup: Setup = { scenario: name, dir, logDir, destination, rulesEnv: writeRules(dir, destination) };
    note(name, `starting (logs in ${logDir})`);
    try {
      const result = await scenarios[name]!.run(setup);
      results.push(result);
      note(
        name,
        `sent ${result.sent}, acknowledged ${result.acknowledged}, processed ${result.processed}, lost ${result.lost}`,
      );
    } catch (error) {
      if (error instanceof Skip) skipped.push(`${name}: ${error.message}`);
      else failed.push(`${name}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      note(name, `did not complete: ${String(error)}`);
    } finally {
      await destination.close();
    }
  }
  const report = [
    `Fault drill, ${begun.toISOString().slice(0, 16).replace("T", " ")} UTC, \`npx tsx bench/drill.ts ${asked.join(" ")}\`` +
      ` on ${os.cpus().length} × ${os.cpus()[0]?.model ?? "?"}, Node ${process.version}, ` +
      `load average at the start ${os.loadavg()[0]!.toFixed(1)}; load aimed at ${RATE} events/s.`,
    "",
    table(results),
    ...(skipped.length > 0 ? ["", ...skipped.map((line) => `Skipped: ${line}`)] : []),
    ...(failed.length > 0 ? ["", ...failed.map((line) => `Did not complete: ${line}`)] : []),
  ].join("\n");
  const out = process.env.DRILL_OUT ?? path.join(os.tmpdir(), `switchboard-drill-${Date.now()}.md`);
  writeFileSync(out, `${report}\n`);
  process.stdout.write(`${report}\n\n(written to ${out}; process logs in ${root})\n`);
  if (failed.length > 0 || results.some((r) => r.lost > 0 || r.duplicatedOtherKey > 0)) process.exitCode = 1;
  else rmSync(root, { recursive: true, force: true });
}

await main();
