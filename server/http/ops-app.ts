/**
 * The worker role's HTTP app (ROLE=worker): only `/health`, `/ready` and `/metrics`, on PORT, so a process
 * that delivers can be health-checked and scraped like the web role. The same routers as the web app.
 */
import Koa from "koa";
import type { Redis } from "ioredis";
import type { Logger } from "../logger.ts";
import type { Metrics } from "../metrics.ts";
import { requestContext, type RequestState } from "./middleware/request-context.ts";
import { healthRoutes } from "./routes/health-routes.ts";
import { metricsRoutes } from "./routes/metrics-routes.ts";

export interface OpsAppDeps {
  log: Logger;
  metrics: Metrics;
  redis: Redis;
  rulesetVersion: () => unknown;
  warnings: readonly string[];
  /** refreshes the gauges read from Redis before a scrape */
  refresh: () => Promise<void>;
}

export function buildOpsApp(deps: OpsAppDeps): Koa<RequestState> {
  const app = new Koa<RequestState>({ proxy: false });
  app.silent = true;
  app.on("error", (error: unknown) => deps.log.error({ err: error }, "unhandled koa error"));
  app.use(requestContext(deps.log));
  for (const router of [
    healthRoutes({ redis: deps.redis, rulesetVersion: deps.rulesetVersion, warnings: deps.warnings }),
    metricsRoutes(deps.metrics.registry, deps.refresh),
  ]) {
    app.use(router.routes());
    app.use(router.allowedMethods({ throw: true }));
  }
  return app;
}
