/**
 * The HTTP port while the service starts: it listens as soon as the rules are loaded, so that a service
 * started before Redis is reachable can say so. Until `serve` hands the same server to the app, `/health`
 * answers 200, `/ready` 503 with the reason (e.g. "waiting for Redis at ..."), and every other request
 * 503 QUEUE_UNAVAILABLE with Retry-After (nothing can be stored yet).
 */
import type { RequestListener, Server } from "node:http";
import { once } from "node:events";
import { ERROR_CATALOGUE } from "../errors.ts";
import { createLimitedServer, type ServerLimits } from "./server-limits.ts";

export interface StartGate {
  server: Server;
  /** the reason /ready gives until the app takes over */
  waiting(reason: string): void;
  /** hands the listening server to the app's request handler; returns the server */
  serve(handler: RequestListener): Server;
  /** closes the server unless `serve` handed it over (the app's shutdown closes it then) */
  close(): Promise<void>;
}

export async function openStartGate(options: {
  port: number;
  host: string;
  rulesetVersion(): unknown;
  warnings: readonly string[];
  /** the HTTP timeouts the server keeps once the app takes it over */
  http: ServerLimits;
}): Promise<StartGate> {
  let reason = "starting";
  const gate: RequestListener = (req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    let status = 503;
    let body: Record<string, unknown>;
    if (path === "/health" && req.method === "GET") {
      status = 200;
      body = { status: "ok" };
    } else if (path === "/ready" && req.method === "GET") {
      body = {
        status: "not_ready",
        reasons: [reason],
        ruleset: options.rulesetVersion() ?? null,
        warnings: options.warnings,
      };
    } else {
      res.setHeader("Retry-After", "5");
      body = {
        code: "QUEUE_UNAVAILABLE",
        message: `${ERROR_CATALOGUE.QUEUE_UNAVAILABLE.message} (${reason})`,
      };
    }
    req.resume();
    res.writeHead(status, { "content-type": "application/json; charset=utf-8" });
    res.end(JSON.stringify(body));
  };
  const server = createLimitedServer(gate, options.http);
  server.listen(options.port, options.host);
  await once(server, "listening");
  let handedOver = false;
  return {
    server,
    waiting(next) {
      reason = next;
    },
    serve(handler) {
      server.off("request", gate);
      server.on("request", handler);
      handedOver = true;
      return server;
    },
    async close() {
      if (handedOver || !server.listening) return;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
