import type { Context } from "koa";
import { AppError } from "../errors.ts";
import { parseJsonObject } from "../events/parse-payload.ts";
import { readRawBody } from "./read-raw-body.ts";

/** bodies already read, by request: the validator (admin-api.ts) reads first, the route gets the same */
const read = new WeakMap<Context, Promise<Record<string, unknown>>>();

/**
 * An admin request's JSON object body (limits and prototype safety as for events); `{}` when empty.
 * Read once per request: a second call answers the same object.
 */
export function readJsonBody(ctx: Context, limit = 256 * 1024): Promise<Record<string, unknown>> {
  let body = read.get(ctx);
  if (body === undefined) {
    body = (async () => {
      const raw = await readRawBody(ctx.req, limit);
      if (raw.length === 0) return {};
      if (!ctx.is("application/json")) {
        throw new AppError("UNSUPPORTED_CONTENT_TYPE", "Admin routes take application/json bodies.");
      }
      return parseJsonObject(raw.toString("utf8"));
    })();
    read.set(ctx, body);
  }
  return body;
}
