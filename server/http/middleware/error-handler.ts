import type { ParameterizedContext } from "koa";
import { AppError, ERROR_CATALOGUE, isAppError } from "../../errors.ts";
import { isRedisUnavailable } from "../../redis/redis-unavailable.ts";
import type { RequestState } from "./request-context.ts";

/**
 * How every error is answered (called by requestContext, the one middleware around every request):
 * JSON {"code","message"} (plus the details when the error is exposed), never internals on a 500.
 */
export function answerError(ctx: ParameterizedContext<RequestState>, thrown: unknown): void {
  const error = toAppError(thrown);
  if (error.status >= 500) {
    ctx.state.log.error({ err: thrown, code: error.code }, "request failed");
  }
  ctx.status = error.status;
  for (const [name, value] of Object.entries(error.headers ?? {})) ctx.set(name, value);
  const body: Record<string, unknown> = {
    code: error.code,
    message: error.expose ? error.message : ERROR_CATALOGUE[error.code].message,
  };
  if (error.expose && error.details !== undefined) Object.assign(body, error.details);
  ctx.body = body;
}

/** Koa and its libraries throw http-errors with `status`/`expose`; map those onto catalogue codes. */
function toAppError(thrown: unknown): AppError {
  if (isAppError(thrown)) return thrown;
  const status = (thrown as { status?: unknown } | null)?.status;
  if (status === 405 || status === 501) return new AppError("METHOD_NOT_ALLOWED");
  if (status === 404) return new AppError("NOT_FOUND");
  if (isRedisUnavailable(thrown)) {
    return new AppError("QUEUE_UNAVAILABLE", "Redis did not answer in time; retry later.", {
      cause: thrown,
      headers: { "Retry-After": "5" },
    });
  }
  return new AppError("INTERNAL_ERROR", undefined, { cause: thrown });
}
