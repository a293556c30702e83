/**
 * bull-board (SPEC §7 `GET /admin/queues`) behind the admin auth (bearer or the dashboard's cookie, CSRF
 * checked by adminSession). The adapters come from server/queue/queue-board.ts, so bull stays behind the
 * queue boundary. The board's page links a web font stylesheet from the internet: the link is taken out
 * of the page, and its CSP allows only this service's own origin, so nothing is fetched from outside.
 */
import { createBullBoard } from "@bull-board/api";
import { KoaAdapter } from "@bull-board/koa";
import type { Middleware } from "koa";
import type { QueueBoardAdapter } from "../../queue/queue-board.ts";
import { adminAuth } from "../middleware/admin-auth.ts";
import type { RequestState } from "../middleware/request-context.ts";

export const QUEUE_BOARD_PATH = "/admin/queues";

const BOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "frame-ancestors 'none'",
].join("; ");

/** a stylesheet link to another host (bull-board's web font) */
const EXTERNAL_STYLESHEET = /<link\b[^>]*\bhref="https?:\/\/[^"]*"[^>]*>/gi;

export function adminQueueBoard(deps: {
  adminToken: string;
  adapters: readonly QueueBoardAdapter[];
}): Middleware<RequestState> {
  const serverAdapter = new KoaAdapter();
  serverAdapter.setBasePath(QUEUE_BOARD_PATH);
  createBullBoard({
    queues: [...deps.adapters],
    serverAdapter,
    options: { uiConfig: { boardTitle: "Switchboard queues" } },
  });
  const board = serverAdapter.registerPlugin() as unknown as Middleware<RequestState>;
  const auth = adminAuth(deps.adminToken);
  return async (ctx, next) => {
    if (ctx.path !== QUEUE_BOARD_PATH && !ctx.path.startsWith(`${QUEUE_BOARD_PATH}/`)) {
      await next();
      return;
    }
    const signedIn = ctx.state.adminSession !== undefined || ctx.get("authorization") !== "";
    if (!signedIn && ctx.method === "GET" && ctx.get("accept").includes("text/html")) {
      ctx.redirect(`/admin/login?next=${encodeURIComponent(QUEUE_BOARD_PATH)}`);
      return;
    }
    await auth(ctx, async () => {
      ctx.set("Content-Security-Policy", BOARD_CSP);
      ctx.set("X-Frame-Options", "DENY");
      await board(ctx, next);
      if (typeof ctx.body === "string" && ctx.response.is("html"))
        ctx.body = ctx.body.replace(EXTERNAL_STYLESHEET, "");
    });
  };
}
