import Router from "@koa/router";
import type { Redis } from "ioredis";
import type { RequestState } from "../middleware/request-context.ts";

export interface HealthDeps {
  redis: Redis;
  /** the loaded ruleset version, or undefined while none is loaded */
  rulesetVersion(): unknown;
  warnings: readonly string[];
}

/** /health: the process runs. /ready: Redis answers and a ruleset is loaded (503 with reasons otherwise). */
export function healthRoutes(deps: HealthDeps): Router<RequestState> {
  const router = new Router<RequestState>();
  router.get("/health", (ctx) => {
    ctx.body = { status: "ok" };
  });
  router.get("/ready", async (ctx) => {
    const reasons: string[] = [];
    try {
      await deps.redis.ping();
    } catch (error) {
      reasons.push(`redis: ${error instanceof Error ? error.message : String(error)}`);
    }
    const version = deps.rulesetVersion();
    if (version === undefined) reasons.push("ruleset: not loaded");
    ctx.status = reasons.length === 0 ? 200 : 503;
    ctx.body = {
      status: reasons.length === 0 ? "ready" : "not_ready",
      ...(reasons.length > 0 ? { reasons } : {}),
      ruleset: version ?? null,
      warnings: deps.warnings,
    };
  });
  return router;
}
