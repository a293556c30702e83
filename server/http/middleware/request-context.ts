import type { Middleware } from "koa";
import { AppError } from "../../errors.ts";
import { newRequestId } from "../../ids.ts";
import type { Logger } from "../../logger.ts";
import { answerError } from "./error-handler.ts";

/** What every request carries in ctx.state. */
export interface RequestState {
  requestId: string;
  /** a child logger carrying the request id (made on first use) */
  log: Logger;
  /** the process's logger; hot paths log on it with `requestId` as a field instead of making a child */
  baseLog: Logger;
  /** the dashboard session that signed this admin request in (admin-session.ts), if any */
  adminSession?: string;
}

/** ctx.state for one request; the child logger is made only if something logs through it. */
class State implements RequestState {
  #child: Logger | undefined;
  constructor(
    readonly requestId: string,
    readonly baseLog: Logger,
  ) {}
  get log(): Logger {
    return (this.#child ??= this.baseLog.child({ requestId: this.requestId }));
  }
}

const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * The one middleware around every request (one, not two: it runs for every event): gives each request an id
 * (a sane incoming X-Request-Id is kept) and a child logger that carries it, answers every error with
 * answerError (unknown routes become NOT_FOUND), and writes one access line when it ends (debug for
 * successes, info for refusals, error for failures).
 */
export function requestContext(log: Logger): Middleware<RequestState> {
  return async (ctx, next) => {
    const incoming = ctx.get("x-request-id");
    const state = new State(REQUEST_ID_RE.test(incoming) ? incoming : newRequestId(), log);
    ctx.state = state;
    ctx.set("X-Request-Id", state.requestId);
    const started = performance.now();
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw new AppError("NOT_FOUND");
    } catch (thrown) {
      answerError(ctx, thrown);
    } finally {
      // Routes log their own line per event; the access line is for refusals and debugging.
      const level = ctx.status >= 500 ? "error" : ctx.status >= 400 ? "info" : "debug";
      if (log.isLevelEnabled(level)) {
        const ms = Math.round((performance.now() - started) * 100) / 100;
        state.log[level]({ method: ctx.method, path: ctx.path, status: ctx.status, ms }, "request");
      }
    }
  };
}
