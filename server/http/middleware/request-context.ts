import type { Middleware } from "koa";
import { newRequestId } from "../../ids.ts";
import type { Logger } from "../../logger.ts";

/** What every request carries in ctx.state. */
export interface RequestState {
  requestId: string;
  /** a child logger carrying the request id (made on first use) */
  log: Logger;
}

const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * Gives each request an id (a sane incoming X-Request-Id is kept), a child logger that carries it, and one
 * access line when it ends (debug for successes, info for refusals, error for failures).
 */
export function requestContext(log: Logger): Middleware<RequestState> {
  return async (ctx, next) => {
    const incoming = ctx.get("x-request-id");
    const requestId = REQUEST_ID_RE.test(incoming) ? incoming : newRequestId();
    ctx.state.requestId = requestId;
    let child: Logger | undefined;
    Object.defineProperty(ctx.state, "log", {
      get: () => (child ??= log.child({ requestId })),
      configurable: true,
      enumerable: true,
    });
    ctx.set("X-Request-Id", requestId);
    const started = performance.now();
    try {
      await next();
    } finally {
      // Routes log their own line per event; the access line is for refusals and debugging.
      const level = ctx.status >= 500 ? "error" : ctx.status >= 400 ? "info" : "debug";
      if (log.isLevelEnabled(level)) {
        const ms = Math.round((performance.now() - started) * 100) / 100;
        ctx.state.log[level]({ method: ctx.method, path: ctx.path, status: ctx.status, ms }, "request");
      }
    }
  };
}
