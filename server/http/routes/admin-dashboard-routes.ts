/**
 * The dashboard (SPEC §7 `GET /admin/`): its page, its sign-in form and sign-out, and its two static
 * files. The page is rendered on the server (dashboard/render-page.ts); its script reads the admin API
 * with the session cookie. Signing in with ADMIN_TOKEN starts a session (dashboard/admin-sessions.ts)
 * held in an HttpOnly, SameSite=Strict cookie on Path=/admin; the token itself never leaves the form.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import Router from "@koa/router";
import type { Context } from "koa";
import type { AdminSessions } from "../../dashboard/admin-sessions.ts";
import { readOverview, type OverviewDeps } from "../../dashboard/dashboard-overview.ts";
import { createPageRenderer } from "../../dashboard/render-page.ts";
import { AppError } from "../../errors.ts";
import { ADMIN_SESSION_COOKIE, fromOwnOrigin } from "../middleware/admin-session.ts";
import type { RequestState } from "../middleware/request-context.ts";
import { readRawBody } from "../read-raw-body.ts";

export interface AdminDashboardDeps extends OverviewDeps {
  adminToken: string;
  publicUrl: string;
  sessions: AdminSessions;
}

const STATIC_DIR = path.resolve(import.meta.dirname, "../../dashboard/static");
const STATIC_FILES: Record<string, string> = {
  "dashboard.js": "text/javascript; charset=utf-8",
  "dashboard.css": "text/css; charset=utf-8",
};

const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join("; ");

const digest = (value: string): Buffer => createHash("sha256").update(value).digest();

/** where to go after signing in: only a path of the dashboard itself (no open redirect) */
const nextPath = (value: unknown): string =>
  typeof value === "string" && /^\/admin(\/[A-Za-z0-9/_.-]*)?$/.test(value) ? value : "/admin/";

function page(ctx: Context, status: number, html: string): void {
  ctx.status = status;
  ctx.type = "text/html; charset=utf-8";
  ctx.set("Content-Security-Policy", PAGE_CSP);
  ctx.set("X-Frame-Options", "DENY");
  ctx.set("X-Content-Type-Options", "nosniff");
  ctx.set("Referrer-Policy", "no-referrer");
  ctx.set("Cache-Control", "no-store");
  ctx.body = html;
}

export function adminDashboardRoutes(deps: AdminDashboardDeps): Router<RequestState> {
  const router = new Router<RequestState>({ prefix: "/admin" });
  const render = createPageRenderer();
  const expected = digest(deps.adminToken);
  const statics = new Map(
    Object.keys(STATIC_FILES).map((name) => [name, readFileSync(path.join(STATIC_DIR, name))]),
  );

  const bearerMatches = (ctx: Context): boolean => {
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(ctx.get("authorization"));
    return match?.[1] !== undefined && timingSafeEqual(digest(match[1]), expected);
  };
  const signedIn = (ctx: Context & { state: RequestState }): boolean =>
    ctx.state.adminSession !== undefined || bearerMatches(ctx);

  const cookie = (ctx: Context, value: string, maxAgeSeconds: number): void => {
    const publicUrl = new URL(deps.publicUrl);
    const secure = ctx.secure || (publicUrl.protocol === "https:" && publicUrl.host === ctx.host);
    ctx.append(
      "Set-Cookie",
      `${ADMIN_SESSION_COOKIE}=${value}; Path=/admin; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Strict${secure ? "; Secure" : ""}`,
    );
  };

  router.get("/", async (ctx) => {
    if (!signedIn(ctx)) {
      ctx.redirect("/admin/login");
      return;
    }
    page(ctx, 200, render.dashboard(await readOverview(deps)));
  });

  router.get("/login", (ctx) => {
    if (signedIn(ctx)) {
      ctx.redirect(nextPath(ctx.query.next));
      return;
    }
    page(ctx, 200, render.login({ next: nextPath(ctx.query.next) }));
  });

  router.post("/login", async (ctx) => {
    if (!fromOwnOrigin(ctx, deps.publicUrl)) throw new AppError("ADMIN_CSRF_REFUSED");
    const form = new URLSearchParams((await readRawBody(ctx.req, 8 * 1024)).toString("utf8"));
    const token = form.get("token") ?? "";
    const next = nextPath(form.get("next"));
    if (!timingSafeEqual(digest(token), expected)) {
      ctx.state.log.info({ event: "admin-login-failed" }, "dashboard sign-in refused");
      const error = new AppError("ADMIN_LOGIN_FAILED");
      page(ctx, error.status, render.login({ error: { code: error.code, message: error.message }, next }));
      return;
    }
    cookie(ctx, await deps.sessions.create(), Math.floor(deps.sessions.ttlMs / 1000));
    ctx.status = 303;
    ctx.redirect(next);
  });

  router.post("/logout", async (ctx) => {
    // adminSession has checked the origin of a cookie-signed POST; a session-less one just clears
    if (ctx.state.adminSession !== undefined) await deps.sessions.end(ctx.state.adminSession);
    cookie(ctx, "", 0);
    ctx.status = 303;
    ctx.redirect("/admin/login");
  });

  router.get("/static/:name", (ctx) => {
    const name = ctx.params.name ?? "";
    const body = statics.get(name);
    const type = STATIC_FILES[name];
    if (body === undefined || type === undefined) throw new AppError("NOT_FOUND");
    ctx.type = type;
    ctx.set("Cache-Control", "no-cache");
    ctx.set("X-Content-Type-Options", "nosniff");
    ctx.body = body;
  });
  return router;
}
