/**
 * The composition root: the only module that reads the environment. `startService` builds logger-fed
 * Redis, queues, the rule registry and the HTTP app from a frozen config and starts the roles asked for;
 * `main` adds the environment, signals and the exit code. Tests start the same service with their config.
 */
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { loadConfig, type Config } from "./config/load-config.ts";
import { isAppError } from "./errors.ts";
import { createLogger, type Logger } from "./logger.ts";
import { createMetrics } from "./metrics.ts";
import { startEmbeddedRedis } from "./redis/embedded-redis.ts";
import { createRedisConnections } from "./redis/redis-connections.ts";
import { openStartGate } from "./http/start-gate.ts";
import { createQueues } from "./queue/queues.ts";
import { buildApp } from "./app.ts";
import { healthRoutes } from "./http/routes/health-routes.ts";
import { metricsRoutes } from "./http/routes/metrics-routes.ts";
import { RuleRegistry } from "./rules/rule-registry.ts";
import type { LoadedRuleset } from "./rules/load-ruleset.ts";
import { createRulesetReloader, rulesetInvalid } from "./rules/ruleset-reloader.ts";
import { createFleetReload } from "./rules/fleet-reload.ts";
import { watchRules } from "./rules/watch-rules.ts";
import { adminRulesRoutes } from "./http/routes/admin-rules-routes.ts";
import { createAnswerer } from "./answer/answer-request.ts";
import { createAnswerJournal } from "./answer/answer-journal.ts";
import { createActionExecutor, queuedActionHandler } from "./workers/execute-action.ts";
import { createBreakers } from "./actions/circuit-breaker.ts";
import { createDeadLetters } from "./actions/dead-letters.ts";
import { adminDeadLetterRoutes } from "./http/routes/admin-dead-letter-routes.ts";
import { apiCallsRoutes } from "./http/routes/api-calls-routes.ts";
import { adminEventRoutes } from "./http/routes/admin-event-routes.ts";
import { createCallStore } from "./calls/call-store.ts";
import { createVobizClient } from "./calls/vobiz-client.ts";
import { VERSION } from "./version.ts";
import { createIngest, trimEventIndex, type IncomingEvent, type IngestResult } from "./events/ingest.ts";
import { awaitReplicas } from "./events/await-replicas.ts";
import { ingestRoutes } from "./http/routes/ingest-routes.ts";
import { createEventProcessor, inlineDecider } from "./workers/process-event.ts";
import { createInlineDelivery, type InlineDelivery } from "./workers/inline-delivery.ts";
import { traceKeys } from "./events/trace-keys.ts";
import { createDispatch } from "./workers/dispatch-event.ts";
import { createTraceStore } from "./events/trace-store.ts";

export interface Service {
  /** http://host:port when the web role runs */
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

async function assemble(
  config: Readonly<Config>,
  log: Logger,
  stack: Step[],
  close: () => Promise<void>,
): Promise<Service> {
  const warnings: string[] = [];
  if (config.signaturePolicy === "off") {
    warnings.push(
      "SIGNATURE_POLICY=off: requests are NOT verified; anyone who can reach this service can inject events",
    );
  } else if (!config.vobiz.authToken && !config.vobiz.parentAuthToken) {
    warnings.push("VOBIZ_AUTH_TOKEN is not set: every request to /events and /answer will be refused (401)");
  }
  for (const warning of warnings) log.warn(warning);

  // rules first: invalid content stops the start before anything else is started
  const metrics = createMetrics();
  const context = {
    defaultCountry: config.defaultCountry,
    publicUrl: config.publicUrl,
    accountId: config.vobiz.authId,
  };
  const registry = new RuleRegistry<LoadedRuleset>();
  const reloader = createRulesetReloader(
    registry,
    { rulesDir: config.rulesDir, templatesDir: config.templatesDir, context },
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
  // the port listens while Redis is awaited, so /ready can say why the service is not ready yet
  const gate =
    config.role === "worker"
      ? undefined
      : await openStartGate({ ...config, warnings, rulesetVersion: () => registry.current?.version });
  if (gate !== undefined) stack.push({ name: "http server (starting)", close: () => gate.close() });
  await connections.waitUntilReady({ onWaiting: (reason) => gate?.waiting(reason) });

  const fleet = createFleetReload({
    command: connections.command,
    subscriber: connections.subscriber,
    prefix: config.redisPrefix,
    role: config.role,
    reloader,
    currentVersion: () => registry.current?.version,
    log,
  });
  await fleet.start();
  stack.push({ name: "fleet reload", close: () => fleet.close() });
  if (config.rulesWatch) {
    const watcher = watchRules([config.rulesDir, config.templatesDir], () => void reloader.reload(), log);
    stack.push({ name: "rules watch", close: () => Promise.resolve(watcher.close()) });
  }

  const queues = createQueues(connections, {
    prefix: config.redisPrefix,
    consume: config.role !== "web",
    lockMs: config.jobLockMs,
  });
  stack.push({ name: "queues", close: () => queues.close() });

  const breakers = createBreakers(connections.command, config.redisPrefix);
  const calls = createCallStore(connections.command, config.redisPrefix, config.eventRetentionMs);
  const deadLetters = createDeadLetters(connections.command, config.redisPrefix);
  let inline: InlineDelivery | undefined;
  if (queues.eventsConsumer && queues.actionsConsumer) {
    const traces = createTraceStore(connections.worker, config.redisPrefix);
    const processEvent = createEventProcessor({
      registry,
      dispatch: createDispatch(queues.actions, config.redisPrefix),
      context,
      metrics,
      calls,
      log,
    });
    void queues.eventsConsumer.process(config.workerConcurrency, processEvent);
    const executeAction = createActionExecutor({
      registry,
      traces,
      breakers,
      deadLetters: createDeadLetters(connections.worker, config.redisPrefix),
      context,
      secrets: config.secrets,
      userAgent: `Switchboard/${VERSION}`,
      metrics,
      log,
    });
    // ROLE=all: deliveries start in the request path's wake; they and the queue's share the concurrency
    if (config.role === "all") {
      const started = createInlineDelivery({
        consumer: queues.actionsConsumer,
        execute: executeAction,
        traceKey: traceKeys(config.redisPrefix).trace,
        limit: config.actionConcurrency,
        metrics,
        log,
      });
      stack.push({ name: "inline deliveries", close: () => started.drain() });
      inline = started;
    }
    const handleAction = queuedActionHandler(executeAction, traces, metrics);
    void queues.actionsConsumer.process(
      config.actionConcurrency,
      inline === undefined ? handleAction : inline.counted(handleAction),
    );
    log.info(
      { concurrency: config.workerConcurrency, actionConcurrency: config.actionConcurrency },
      "workers started",
    );
  }

  let url: string | undefined;
  if (config.role !== "worker") {
    const ingestOnPrimary = createIngest({
      redis: connections.command,
      queue: queues.events,
      actions: queues.actions,
      // one process runs both: decide in the request path and save each event a job cycle (README "Roles")
      decide: config.role === "all" ? inlineDecider({ registry, context, metrics, log }) : undefined,
      inline,
      prefix: config.redisPrefix,
      retentionMs: config.eventRetentionMs,
      secretValues: secretValues(config),
      log,
    });
    const ingest = awaitReplicas(ingestOnPrimary, connections.command, config); // REDIS_MIN_REPLICAS
    const reply = createAnswerer({ registry, context, budgetMs: config.answerBudgetMs, log });
    const journal = createAnswerJournal({ dir: path.join(config.dataDir, "journal"), ingest, log });
    journal.start();
    stack.push({ name: "answer journal", close: () => journal.close() });
    void journal.replay().catch((error: unknown) => log.warn({ err: error }, "journal replay failed"));
    const answer = {
      reply,
      budgetMs: config.answerBudgetMs,
      async store(event: IncomingEvent): Promise<IngestResult | "journaled"> {
        try {
          const result = await ingest(event);
          return result;
        } catch (error) {
          if (!isAppError(error) || error.code !== "QUEUE_UNAVAILABLE") throw error;
          await journal.write(event);
          log.warn({ eventId: event.id, path: event.path }, "Redis unavailable: answer event journaled");
          return "journaled";
        }
      },
    };
    const trim = setInterval(() => {
      trimEventIndex(connections.command, config.redisPrefix, config.eventRetentionMs).catch(
        (error: unknown) => log.warn({ err: error }, "could not trim the event index"),
      );
    }, 60_000);
    trim.unref();
    stack.push({ name: "index trim", close: () => Promise.resolve(clearInterval(trim)) });
    const app = buildApp({
      log,
      handlers: [
        ingestRoutes({
          config,
          ingest,
          metrics,
          answer,
        }),
      ],
      routers: [
        healthRoutes({
          redis: connections.command,
          rulesetVersion: () => registry.current?.version,
          warnings,
        }),
        metricsRoutes(metrics.registry, async () => {
          try {
            metrics.openBreakers.set((await breakers.open()).length);
            metrics.deadLetters.set(await deadLetters.count());
          } catch (error) {
            log.debug({ err: error }, "metrics: Redis gauges not refreshed"); // the rest of /metrics still answers
          }
        }),
        adminDeadLetterRoutes({ adminToken: config.adminToken, deadLetters, actions: queues.actions }),
        adminEventRoutes({
          adminToken: config.adminToken,
          redis: connections.command,
          prefix: config.redisPrefix,
        }),
        apiCallsRoutes({
          adminToken: config.adminToken,
          publicUrl: config.publicUrl,
          vobiz: createVobizClient({
            apiUrl: config.vobiz.apiUrl,
            authId: config.vobiz.authId,
            authToken: config.vobiz.authToken,
          }),
          calls,
        }),
        adminRulesRoutes({ adminToken: config.adminToken, registry, fleet, context }),
      ],
    });
    const server = gate?.serve(app.callback()) ?? app.listen(config.port, config.host);
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
    url = `http://${config.host === "0.0.0.0" ? "127.0.0.1" : config.host}:${port}`;
    log.info({ port, host: config.host, publicUrl: config.publicUrl, role: config.role }, "listening");
  }
  return { url, redisUrl: redisUrl ?? connections.label, close };
}

/** Values that must never appear in traces, logs or dead letters. */
function secretValues(config: Readonly<Config>): ReadonlySet<string> {
  const values = [
    ...Object.values(config.secrets),
    config.vobiz.authToken,
    config.vobiz.authTokenPrevious,
    config.vobiz.parentAuthToken,
    config.adminToken,
  ];
  return new Set(values.filter((value): value is string => typeof value === "string" && value.length >= 4));
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
