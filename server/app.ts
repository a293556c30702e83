import Koa, { type Middleware } from "koa";
import type Router from "@koa/router";
import type { Logger } from "./logger.ts";
import { requestContext, type RequestState } from "./http/middleware/request-context.ts";

export interface AppDeps {
  log: Logger;
  /** handlers mounted before the routers (the /events and /answer front door) */
  handlers?: Middleware<RequestState>[];
  /** routers in the order they are mounted */
  routers: Router<RequestState>[];
}

/** Builds the Koa app: the request context (which also answers errors), then the routes. Never listens. */
export function buildApp(deps: AppDeps): Koa<RequestState> {
  const app = new Koa<RequestState>({ proxy: false });
  app.silent = true; // errors are answered and logged by requestContext; Koa's own printer stays quiet
  app.on("error", (error: unknown) => deps.log.error({ err: error }, "unhandled koa error"));
  app.use(requestContext(deps.log));
  for (const handler of deps.handlers ?? []) app.use(handler);
  for (const router of deps.routers) {
    app.use(router.routes());
    app.use(router.allowedMethods({ throw: true }));
  }
  return app;
}
