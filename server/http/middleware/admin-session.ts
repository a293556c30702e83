/**
 * The dashboard's session cookie, for every `/admin` route: a request without an Authorization header
 * whose cookie names a live session is signed in (adminAuth then lets it through). Bearer requests are
 * left to adminAuth as before.
 *
 * CSRF: the cookie is SameSite=Strict, and a state-changing request (not GET/HEAD/OPTIONS) signed in by
 * the cookie must also come from the dashboard's own origin: `Sec-Fetch-Site: same-origin`, or, from a
 * browser that does not send it, an `Origin` whose host is the request's Host (or PUBLIC_URL's origin).
 * Anything else is refused with 403 ADMIN_CSRF_REFUSED, whatever the cookie.
 */
import type { Context, Middleware } from "koa";
import type { AdminSessions } from "../../dashboard/admin-sessions.ts";
import { AppError } from "../../errors.ts";
import type { RequestState } from "./request-context.ts";

export const ADMIN_SESSION_COOKIE = "switchboard_admin";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** the request comes from a page of this service (see the module's comment) */
export function fromOwnOrigin(ctx: Context, publicUrl: string): boolean {
  const site = ctx.get("sec-fetch-site");
  if (site !== "") return site === "same-origin";
  const origin = ctx.get("origin");
  if (origin === "" || origin === "null") return false;
  try {
    return new URL(origin).host === ctx.host || new URL(origin).origin === new URL(publicUrl).origin;
  } catch {
    return false;
  }
}

export function adminSession(options: {
  sessions: AdminSessions;
  publicUrl: string;
}): Middleware<RequestState> {
  return async (ctx, next) => {
    if (!(ctx.path === "/admin" || ctx.path.startsWith("/admin/")) || ctx.get("authorization") !== "") {
      await next();
      return;
    }
    const id = ctx.cookies.get(ADMIN_SESSION_COOKIE);
    if (id !== undefined && id !== "" && (await options.sessions.valid(id))) {
      if (!SAFE_METHODS.has(ctx.method) && !fromOwnOrigin(ctx, options.publicUrl)) {
        throw new AppError("ADMIN_CSRF_REFUSED");
      }
      ctx.state.adminSession = id;
    }
    await next();
  };
}
