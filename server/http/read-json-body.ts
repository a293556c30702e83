import type { Context } from "koa";
import { AppError } from "../errors.ts";
import { parseJsonObject } from "../events/parse-payload.ts";
import { readRawBody } from "./read-raw-body.ts";

/** An admin request's JSON object body (limits and prototype safety as for events); `{}` when empty. */
export async function readJsonBody(ctx: Context, limit = 256 * 1024): Promise<Record<string, unknown>> {
  const raw = await readRawBody(ctx.req, limit);
  if (raw.length === 0) return {};
  if (!ctx.is("application/json")) {
    throw new AppError("UNSUPPORTED_CONTENT_TYPE", "Admin routes take application/json bodies.");
  }
  return parseJsonObject(raw.toString("utf8"));
}
