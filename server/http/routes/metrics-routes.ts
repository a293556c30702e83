import Router from "@koa/router";
import type { Registry } from "prom-client";
import type { RequestState } from "../middleware/request-context.ts";

export function metricsRoutes(registry: Registry, beforeScrape: () => Promise<void>): Router<RequestState> {
  const router = new Router<RequestState>();
  router.get("/metrics", async (ctx) => {
    await beforeScrape();
    ctx.type = registry.contentType;
    ctx.body = await registry.metrics();
  });
  return router;
}
