/**
 * buildApp(deps): the Koa app of the web role: the request context (which also answers errors), the
 * /events and /answer front door, then the routers. Never listens: main.ts does, and tests drive
 * `app.callback()` without a port.
 */
import Koa from "koa";
import type { Redis } from "ioredis";
import type { Breakers } from "./actions/circuit-breaker.ts";
import type { DeadLetters } from "./actions/dead-letters.ts";
import type { Answerer } from "./answer/answer-request.ts";
import type { AnswerStore } from "./answer/answer-store.ts";
import type { CallStore } from "./calls/call-store.ts";
import type { VobizClient } from "./calls/vobiz-client.ts";
import type { Config } from "./config/load-config.ts";
import type { ContextOptions } from "./events/build-context.ts";
import type { Ingest } from "./events/ingest.ts";
import type { AdminSessions } from "./dashboard/admin-sessions.ts";
import { adminSession } from "./http/middleware/admin-session.ts";
import { adminDashboardRoutes } from "./http/routes/admin-dashboard-routes.ts";
import { adminQueueBoard } from "./http/routes/admin-queue-board.ts";
import type { QueueBoardAdapter } from "./queue/queue-board.ts";
import { requestContext, type RequestState } from "./http/middleware/request-context.ts";
import { adminDeadLetterRoutes } from "./http/routes/admin-dead-letter-routes.ts";
import { adminEventRoutes } from "./http/routes/admin-event-routes.ts";
import { adminOpenApiRoutes } from "./http/routes/admin-openapi-routes.ts";
import { adminRulesRoutes } from "./http/routes/admin-rules-routes.ts";
import { apiCallsRoutes } from "./http/routes/api-calls-routes.ts";
import { healthRoutes } from "./http/routes/health-routes.ts";
import { ingestRoutes } from "./http/routes/ingest-routes.ts";
import { metricsRoutes } from "./http/routes/metrics-routes.ts";
import type { Logger } from "./logger.ts";
import { metricsRefresh } from "./metrics-refresh.ts";
import type { Metrics } from "./metrics.ts";
import type { EventQueue } from "./queue/event-queue.ts";
import type { ReplayQueue } from "./queue/replay-queue.ts";
import type { Replayer } from "./events/replay-event.ts";
import { adminReplayRoutes } from "./http/routes/admin-replay-routes.ts";
import type { FleetReload } from "./rules/fleet-reload.ts";
import type { LoadedRuleset } from "./rules/load-ruleset.ts";
import type { RuleRegistry } from "./rules/rule-registry.ts";

export interface AppDeps {
  config: Readonly<Config>;
  log: Logger;
  metrics: Metrics;
  /** the fail-fast command connection */
  redis: Redis;
  queue: Pick<EventQueue, "redrive" | "depth">;
  ingest: Ingest;
  answer: { reply: Answerer; store: AnswerStore };
  registry: RuleRegistry<LoadedRuleset>;
  fleet: FleetReload;
  context: ContextOptions;
  breakers: Breakers;
  deadLetters: DeadLetters;
  calls: CallStore;
  vobiz: VobizClient;
  /** replays one recorded event */
  replay: Replayer;
  /** bulk replays */
  replays: Pick<ReplayQueue, "start" | "progress">;
  /** risky settings, shown on /ready */
  warnings: readonly string[];
  /** the dashboard's sign-in sessions */
  adminSessions: AdminSessions;
  /** bull-board's adapters for /admin/queues (server/queue/queue-board.ts) */
  queueBoard?: () => Promise<readonly QueueBoardAdapter[]>;
}

export function buildApp(deps: AppDeps): Koa<RequestState> {
  const { config, log } = deps;
  const app = new Koa<RequestState>({ proxy: false });
  app.silent = true; // errors are answered and logged by requestContext; Koa's own printer stays quiet
  app.on("error", (error: unknown) => log.error({ err: error }, "unhandled koa error"));
  app.use(requestContext(log));
  app.use(
    ingestRoutes({
      config,
      ingest: deps.ingest,
      metrics: deps.metrics,
      answer: { ...deps.answer, budgetMs: config.answerBudgetMs },
    }),
  );
  app.use(adminSession({ sessions: deps.adminSessions, publicUrl: config.publicUrl }));
  if (deps.queueBoard !== undefined)
    app.use(adminQueueBoard({ adminToken: config.adminToken, adapters: deps.queueBoard }));
  const routers = [
    healthRoutes({
      redis: deps.redis,
      rulesetVersion: () => deps.registry.current?.version,
      warnings: deps.warnings,
    }),
    metricsRoutes(deps.metrics.registry, metricsRefresh(deps)),
    adminDeadLetterRoutes({
      adminToken: config.adminToken,
      deadLetters: deps.deadLetters,
      queue: deps.queue,
    }),
    adminEventRoutes({
      adminToken: config.adminToken,
      redis: deps.redis,
      prefix: config.redisPrefix,
      retentionMs: config.eventRetentionMs,
      describe: (rule) => deps.registry.current?.ruleset.ruleset.rule(rule)?.description,
    }),
    apiCallsRoutes({
      adminToken: config.adminToken,
      publicUrl: config.publicUrl,
      vobiz: deps.vobiz,
      calls: deps.calls,
    }),
    adminRulesRoutes({
      adminToken: config.adminToken,
      registry: deps.registry,
      fleet: deps.fleet,
      context: deps.context,
    }),
    adminOpenApiRoutes({ adminToken: config.adminToken }),
    adminDashboardRoutes({
      adminToken: config.adminToken,
      publicUrl: config.publicUrl,
      sessions: deps.adminSessions,
      redis: deps.redis,
      prefix: config.redisPrefix,
      version: () => deps.registry.current?.version,
      instanceId: deps.fleet.instanceId,
      instances: () => deps.fleet.instances(),
      deadLetters: deps.deadLetters,
    }),
    adminReplayRoutes({
      adminToken: config.adminToken,
      redis: deps.redis,
      prefix: config.redisPrefix,
      retentionMs: config.eventRetentionMs,
      replay: deps.replay,
      replays: deps.replays,
    }),
  ];
  for (const router of routers) {
    app.use(router.routes());
    app.use(router.allowedMethods({ throw: true }));
  }
  return app;
}
