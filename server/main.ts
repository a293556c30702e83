/**
 * The composition root: the only module that reads the environment. `startService` builds logger-fed
 * Redis, queues, the rule registry and the HTTP app from a frozen config and starts the roles asked for;
 * `main` adds the environment, signals and the exit code. Tests start the same service with their config.
 */
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { createBreakers } from "./actions/circuit-breaker.ts";
import { createDeadLetters } from "./actions/dead-letters.ts";
import { createAlerts } from "./alerts/alerts.ts";
import {
  alertingDeadLetters,
  alertingFleet,
  breakerAlerts,
  reloadFailed,
  watchSignatureFailures,
} from "./alerts/alert-sources.ts";
import { createAnswerJournal } from "./answer/answer-journal.ts";
import { createAnswerer } from "./answer/answer-request.ts";
import { createAnswerStore } from "./answer/answer-store.ts";
import { buildApp, type AppDeps } from "./app.ts";
import { buildInfo } from "./build-info.ts";
import { createCallStore } from "./calls/call-store.ts";
import { createVobizClient } from "./calls/vobiz-client.ts";
import { loadConfig, type Config } from "./config/load-config.ts";
import { secretValues, startWarnings } from "./config/start-warnings.ts";
import { createAdminSessions } from "./dashboard/admin-sessions.ts";
import { isAppError } from "./errors.ts";
import { startIndexTrim } from "./events/index-trim.ts";
import { createIngest } from "./events/ingest.ts";
import { createRequestDecider } from "./events/request-decider.ts";
import type Koa from "koa";
import { buildOpsApp } from "./http/ops-app.ts";
import { openStartGate } from "./http/start-gate.ts";
import { awaitReplicas } from "./events/await-replicas.ts";
import { createTraceStore, readTraces } from "./events/trace-store.ts";
import { createReplayer, type Replayer } from "./events/replay-event.ts";
import { createLogger, type Logger } from "./logger.ts";
import { metricsRefresh } from "./metrics-refresh.ts";
import { createMetrics, type Metrics } from "./metrics.ts";
import { createEventQueue, type EventQueue } from "./queue/event-queue.ts";
import { queueBoardAdapters } from "./queue/queue-board.ts";
import { createReplayQueue, type ReplayQueue } from "./queue/replay-queue.ts";
import { startEmbeddedRedis } from "./redis/embedded-redis.ts";
import { createRedisConnections, type RedisConnections } from "./redis/redis-connections.ts";
import { createFleetReload, type FleetReload } from "./rules/fleet-reload.ts";
import type { LoadedRuleset } from "./rules/load-ruleset.ts";
import { RuleRegistry } from "./rules/rule-registry.ts";
import { createRulesetReloader, rulesetInvalid } from "./rules/ruleset-reloader.ts";
import { watchRules } from "./rules/watch-rules.ts";
import { VERSION } from "./version.ts";
import type { VobizSettings } from "./actions/run-vobiz.ts";
import { createVobizSender } from "./actions/send-vobiz.ts";
import { createVobizLedger } from "./actions/vobiz-ledger.ts";
import { startWorkers } from "./workers/start-workers.ts";

export interface Service {
  /** http://host:port (the web role's app, or ROLE=worker's /health, /ready and /metrics) */
  url: string | undefined;
  redisUrl: string;
  /** stop accepting, finish in-flight requests and jobs, close queues, then Redis */
  close(): Promise<void>;
}

type Step = { name: string; close: () => Promise<void> };

export async function startService(config: Readonly<Config>, log: Logger): Promise<Service> {
  const stack: Step[] = [];
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      for (const step of stack.reverse()) {
        try {
          await step.close();
        } catch (error) {
          log.error({ err: error, step: step.name }, "shutdown step failed");
        }
      }
    })());
  try {
    return await assemble(config, log, stack, close);
  } catch (error) {
    await close();
    throw error;
  }
}

/** What every role shares: the rules, Redis, the queue and the stores. */
export interface SharedDeps {
  config: Readonly<Config>;
  log: Logger;
  metrics: Metrics;
  registry: RuleRegistry<LoadedRuleset>;
  connections: RedisConnections;
  fleet: FleetReload;
  queue: EventQueue;
  /** bulk replays (paced, apart from live traffic) */
  replays: ReplayQueue;
}

const contextOptions = (config: Readonly<Config>): AppDeps["context"] => ({
  defaultCountry: config.defaultCountry,
  publicUrl: config.publicUrl,
  accountId: config.vobiz.authId,
});

/**
 * The web role's dependencies (buildApp's), and the answer journal they write to while Redis is away.
 * Tests build the app from the same function, with a real Redis and no port.
 */
export function webDeps(
  shared: SharedDeps,
  warnings: readonly string[],
): AppDeps & { journal: ReturnType<typeof createAnswerJournal> } {
  const { config, log, metrics, registry, connections, queue } = shared;
  const context = contextOptions(config);
  const ingestOnPrimary = createIngest({
    queue,
    // /answer events are decided from their reply's evaluation; ROLE=all decides every event here
    decider: createRequestDecider({ registry, context, everyEvent: config.role === "all", metrics, log }),
    prefix: config.redisPrefix,
    retentionMs: config.eventRetentionMs,
    secretValues: secretValues(config),
    log,
  });
  // REDIS_MIN_REPLICAS: acknowledged only once that many replicas have the event
  const ingest = awaitReplicas(ingestOnPrimary, connections.command, config);
  const journal = createAnswerJournal({ dir: path.join(config.dataDir, "journal"), ingest, log });
  return {
    config,
    log,
    metrics,
    redis: connections.command,
    queue,
    ingest,
    answer: {
      reply: createAnswerer({ registry, context, budgetMs: config.answerBudgetMs, log }),
      store: createAnswerStore({ ingest, journal, log }),
    },
    registry,
    fleet: shared.fleet,
    context,
    breakers: createBreakers(connections.command, config.redisPrefix),
    deadLetters: createDeadLetters(connections.command, config.redisPrefix),
    calls: createCallStore(connections.command, config.redisPrefix, config.eventRetentionMs),
    replay: replayerOf(shared),
    replays: shared.replays,
    vobiz: createVobizClient({
      apiUrl: config.vobiz.apiUrl,
      authId: config.vobiz.authId,
      authToken: config.vobiz.authToken,
    }),
    warnings,
    adminSessions: createAdminSessions(connections.command, config.redisPrefix),
    queueBoard: queueBoardAdapters(connections, { prefix: config.redisPrefix }),
    journal,
  };
}

/** Replays one recorded event (POST /admin/events/:id/replay, and each event of a bulk replay). */
function replayerOf(shared: SharedDeps): Replayer {
  const { config, connections, queue } = shared;
  return createReplayer({
    queue,
    readTrace: async (id) => (await readTraces(connections.command, config.redisPrefix, [id]))[0],
    prefix: config.redisPrefix,
    retentionMs: config.eventRetentionMs,
  });
}

/**
 * What vobiz actions need (actions/run-vobiz.ts). SWITCHBOARD_TEST_VOBIZ_PAUSE (`claimed` or `sent`) is a
 * test hook: the worker stops for good at that point of a vobiz action, so a test can kill -9 it there.
 */
function vobizSettings(
  config: Readonly<Config>,
  connections: RedisConnections,
  stack: Step[],
): VobizSettings {
  const { authId, authToken, apiUrl, cps, timeoutMs } = config.vobiz;
  const sender =
    authId === undefined || authToken === undefined
      ? undefined
      : createVobizSender({ apiUrl, authId, authToken, timeoutMs, userAgent: `Switchboard/${VERSION}` });
  // closed after the queue (the stack closes in reverse): deliveries in flight finish their requests
  const queueStep = stack.findIndex((step) => step.name === "queue");
  if (sender !== undefined)
    stack.splice(Math.max(0, queueStep), 0, { name: "vobiz sender", close: () => sender.close() });
  const pauseAt = process.env.SWITCHBOARD_TEST_VOBIZ_PAUSE;
  return {
    ledger: createVobizLedger(connections.command, config.redisPrefix, config.eventRetentionMs),
    sender,
    authId,
    apiHost: new URL(apiUrl).host,
    publicUrl: config.publicUrl,
    cps,
    ...(pauseAt === "claimed" || pauseAt === "sent" ? { pauseAt } : {}),
  };
}

async function assemble(
  config: Readonly<Config>,
  log: Logger,
  stack: Step[],
  close: () => Promise<void>,
): Promise<Service> {
  const warnings = startWarnings(config);
  for (const warning of warnings) log.warn(warning);

  // rules first: invalid content stops the start before anything else is started
  const metrics = createMetrics(buildInfo(config.buildCommit));
  const alerts = createAlerts({ ...config.alerts, log, metrics });
  stack.push({ name: "alerts", close: () => alerts.close() });
  const context = contextOptions(config);
  const registry = new RuleRegistry<LoadedRuleset>();
  const secretNames = new Set(Object.keys(config.secrets)); // a secret that rules use but is unset is a warning
  const reloader = createRulesetReloader(
    registry,
    { rulesDir: config.rulesDir, templatesDir: config.templatesDir, context, secretNames },
    log,
    metrics,
  );
  const first = await reloader.reload();
  if (first.errors.length > 0) throw rulesetInvalid(first.errors);

  let redisUrl = config.redisUrl;
  if (redisUrl === undefined && config.redis.sentinels === undefined) {
    const embedded = await startEmbeddedRedis({ dir: path.join(config.dataDir, "redis"), log });
    stack.push({ name: "embedded redis", close: () => embedded.stop() });
    redisUrl = embedded.url;
  }
  const connections = createRedisConnections(
    redisUrl,
    log,
    `switchboard:${config.redisPrefix}`,
    config.redis,
  );
  stack.push({ name: "redis connections", close: () => connections.close() });
  // the port listens while Redis is awaited, so /ready can say why the service is not ready yet (every
  // role: ROLE=worker serves /health, /ready and /metrics too)
  const gate = await openStartGate({ ...config, warnings, rulesetVersion: () => registry.current?.version });
  stack.push({ name: "http server (starting)", close: () => gate.close() });
  await connections.waitUntilReady({ onWaiting: (reason) => gate.waiting(reason) });

  const fleetReload = createFleetReload({
    command: connections.command,
    subscriber: connections.subscriber,
    prefix: config.redisPrefix,
    role: config.role,
    reloader,
    currentVersion: () => registry.current?.version,
    log,
  });
  const fleet = alertingFleet(fleetReload, alerts);
  await fleet.start();
  stack.push({ name: "fleet reload", close: () => fleet.close() });
  if (config.rulesWatch) {
    const reloadOnChange = (): void =>
      void reloader
        .reload()
        .then((outcome) => reloadFailed(alerts, [{ id: fleet.instanceId, ...outcome }], "file watch"));
    const watcher = watchRules([config.rulesDir, config.templatesDir], reloadOnChange, log);
    stack.push({ name: "rules watch", close: () => Promise.resolve(watcher.close()) });
  }

  const queue = createEventQueue(connections, {
    prefix: config.redisPrefix,
    consume: config.role !== "web",
    lockMs: config.jobLockMs,
    actionConcurrency: config.actionConcurrency,
    vobizConcurrency: config.vobiz.concurrency,
    retentionMs: config.eventRetentionMs,
    log,
  });
  stack.push({ name: "queue", close: () => queue.close() });
  const replays = createReplayQueue(connections, {
    prefix: config.redisPrefix,
    consume: config.role !== "web",
    ratePerSecond: config.replayRate,
    lockMs: config.jobLockMs,
    log,
  });
  stack.push({ name: "replay queue", close: () => replays.close() });
  const shared: SharedDeps = { config, log, metrics, registry, connections, fleet, queue, replays };

  if (config.role !== "web") {
    startWorkers({
      alerts,
      queue,
      registry,
      traces: createTraceStore(connections.worker, config.redisPrefix),
      breakers: createBreakers(connections.command, config.redisPrefix, undefined, breakerAlerts(alerts)),
      deadLetters: alertingDeadLetters(createDeadLetters(connections.command, config.redisPrefix), alerts),
      calls: createCallStore(connections.command, config.redisPrefix, config.eventRetentionMs),
      context,
      secrets: config.secrets,
      userAgent: `Switchboard/${VERSION}`,
      prefix: config.redisPrefix,
      eventConcurrency: config.workerConcurrency,
      metrics,
      log,
      vobiz: vobizSettings(config, connections, stack),
    });
    const replay = replayerOf(shared);
    replays.consume({
      replay: (id, vobiz) => replay(id, { vobiz }),
      liveBacklog: async () =>
        (await queue.depth()).reduce((sum, { state, count }) => sum + (state === "waiting" ? count : 0), 0),
    });
    log.info(
      { concurrency: config.workerConcurrency, actionConcurrency: config.actionConcurrency },
      "workers started",
    );
  }
  let app: Koa;
  if (config.role === "worker") {
    app = buildOpsApp({
      log,
      metrics,
      redis: connections.command,
      rulesetVersion: () => registry.current?.version,
      warnings,
      refresh: metricsRefresh({
        metrics,
        breakers: createBreakers(connections.command, config.redisPrefix),
        deadLetters: createDeadLetters(connections.command, config.redisPrefix),
        queue,
        log,
      }),
    });
  } else {
    const deps = webDeps(shared, warnings);
    deps.journal.start();
    stack.push({ name: "answer journal", close: () => deps.journal.close() });
    void deps.journal.replay().catch((error: unknown) => log.warn({ err: error }, "journal replay failed"));
    const stopTrim = startIndexTrim(connections.command, config.redisPrefix, config.eventRetentionMs, log);
    stack.push({ name: "index trim", close: () => Promise.resolve(stopTrim()) });
    const stopWatch = watchSignatureFailures(metrics, alerts, {
      perMinute: config.alerts.signatureFailuresPerMinute,
    });
    stack.push({ name: "signature failure watch", close: () => Promise.resolve(stopWatch()) });
    app = buildApp(deps);
  }
  const server = gate.serve(app.callback());
  if (!server.listening) await once(server, "listening");
  stack.push({
    name: "http server",
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.host === "0.0.0.0" ? "127.0.0.1" : config.host}:${port}`;
  log.info({ port, host: config.host, publicUrl: config.publicUrl, role: config.role }, "listening");
  return { url, redisUrl: redisUrl ?? connections.label, close };
}

async function main(): Promise<void> {
  let config: Readonly<Config>;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    process.stderr.write(`switchboard: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
  const log = createLogger({ level: config.logLevel });
  let service: Service | undefined;
  let stopping = false;
  const stop = async (reason: string, exitCode: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info({ reason }, "shutting down");
    const force = setTimeout(() => {
      log.error("shutdown took longer than SHUTDOWN_TIMEOUT; exiting anyway");
      process.exit(exitCode || 1);
    }, config.shutdownTimeoutMs);
    force.unref();
    await service?.close();
    log.info("stopped");
    log.flush();
    process.exitCode = exitCode;
  };
  process.on("uncaughtException", (error) => {
    log.fatal({ err: error }, "uncaught exception");
    log.flush();
    void stop("uncaught exception", 1);
  });
  process.on("unhandledRejection", (reason) => {
    log.error({ err: reason }, "unhandled promise rejection");
  });
  process.once("SIGTERM", () => void stop("SIGTERM", 0));
  process.once("SIGINT", () => void stop("SIGINT", 0));
  try {
    service = await startService(config, log);
  } catch (error) {
    const message = isAppError(error) ? `${error.code}: ${error.message}` : String(error);
    log.fatal({ err: isAppError(error) ? undefined : error }, message);
    process.stderr.write(`switchboard: ${message}\n`);
    log.flush();
    process.exitCode = 1;
    return;
  }
  if (stopping) await service.close(); // a signal arrived while starting
  if (config.adminTokenGenerated && config.role !== "worker") {
    process.stdout.write(
      `\nADMIN_TOKEN was not set; this run's admin token is:\n\n  ${config.adminToken}\n\n` +
        "Set ADMIN_TOKEN to keep one across restarts.\n\n",
    );
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
