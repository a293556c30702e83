import type { Middleware } from "koa";
import { ulid } from "ulid";
import type { Logger } from "../../logger.ts";

/** What every request carries in ctx.state. */
export interface RequestState {
  requestId: string;
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
    const requestId = REQUEST_ID_RE.test(incoming) ? incoming : ulid();
    ctx.state.requestId = requestId;
    ctx.state.log = log.child({ requestId });
    ctx.set("X-Request-Id", requestId);
    const started = performance.now();
    try {
      await next();
    } finally {
      const ms = Math.round((performance.now() - started) * 100) / 100;
      const line = { method: ctx.method, path: ctx.path, status: ctx.status, ms };
      // Routes log their own line per event; the access line is for refusals and debugging.
      if (ctx.status >= 500) ctx.state.log.error(line, "request");
      else if (ctx.status >= 400) ctx.state.log.info(line, "request");
      else ctx.state.log.debug(line, "request");
    }
  };
}
