import { createHash, timingSafeEqual } from "node:crypto";
import type { Middleware } from "koa";
import { AppError } from "../../errors.ts";
import type { RequestState } from "./request-context.ts";

const digest = (value: string): Buffer => createHash("sha256").update(value).digest();

/**
 * `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time (both sides hashed first, so neither
 * the token's length nor its content leaks through timing), or the dashboard's session cookie (checked,
 * CSRF included, by adminSession before the routers). 401 ADMIN_UNAUTHORIZED otherwise.
 */
export function adminAuth(token: string): Middleware<RequestState> {
  const expected = digest(token);
  return async (ctx, next) => {
    if (ctx.state.adminSession !== undefined) {
      await next();
      return;
    }
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(ctx.get("authorization"));
    if (!match?.[1] || !timingSafeEqual(digest(match[1]), expected)) {
      ctx.set("WWW-Authenticate", 'Bearer realm="switchboard-admin"');
      throw new AppError("ADMIN_UNAUTHORIZED");
    }
    await next();
  };
}
