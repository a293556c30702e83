/**
 * bull-board (SPEC §7 `GET /admin/queues`) behind the admin auth (bearer or the dashboard's cookie, CSRF
 * checked by adminSession). The adapters come from server/queue/queue-board.ts, so bull stays behind the
 * queue boundary. The board's page links a web font stylesheet from the internet: the link is taken out
 * of the page, and its CSP allows only this service's own origin, so nothing is fetched from outside.
 * bull-board is loaded on the first signed-in request to the board (it slows a start down).
 */
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

async function loadBoard(adapters: readonly QueueBoardAdapter[]): Promise<Middleware<RequestState>> {
  const [{ createBullBoard }, { KoaAdapter }] = await Promise.all([
    import("@bull-board/api"),
    import("@bull-board/koa"),
  ]);
  const serverAdapter = new KoaAdapter();
  serverAdapter.setBasePath(QUEUE_BOARD_PATH);
  createBullBoard({
    queues: [...adapters],
    serverAdapter,
    options: { uiConfig: { boardTitle: "Switchboard queues" } },
  });
  return serverAdapter.registerPlugin();
}

export function adminQueueBoard(deps: {
  adminToken: string;
  adapters: () => Promise<readonly QueueBoardAdapter[]>;
}): Middleware<RequestState> {
  let board: Promise<Middleware<RequestState>> | undefined;
  const boardOnce = (): Promise<Middleware<RequestState>> => {
    if (board === undefined) {
      board = deps.adapters().then(loadBoard);
      // a failed load is tried again by the next request
      board.catch(() => (board = undefined));
    }
    return board;
  };
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
      const run = await boardOnce();
      await run(ctx, next);
      if (typeof ctx.body === "string" && ctx.response.is("html"))
        ctx.body = ctx.body.replace(EXTERNAL_STYLESHEET, "");
    });
  };
}
