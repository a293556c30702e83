/** The forward destination: a real HTTP server in the drill's process that counts deliveries. */
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import { findFreePort } from "../../server/redis/find-free-port.ts";

export interface Destination {
  url: string;
  /** CallUUID -> the Idempotency-Key of each delivery, in order */
  deliveries: Map<string, string[]>;
  total(): number;
  /** stops listening and drops every connection (the port refuses connections) */
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

/** Answers 200 after `delayMs` to every request, and records it by its `call` query parameter. */
export async function startDestination(delayMs: number): Promise<Destination> {
  const deliveries = new Map<string, string[]>();
  let total = 0;
  const port = await findFreePort();
  let server: Server | undefined;
  const listen = async (): Promise<void> => {
    const created = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        const call = new URL(req.url ?? "/", "http://x").searchParams.get("call") ?? "?";
        const key = String(req.headers["idempotency-key"] ?? "");
        const answer = (): void => {
          total += 1;
          const keys = deliveries.get(call) ?? [];
          keys.push(key);
          deliveries.set(call, keys);
          res.end("ok");
        };
        // counted when answered: a delivery the destination never answered is not a delivery
        if (delayMs > 0) setTimeout(answer, delayMs);
        else answer();
      });
    });
    created.listen(port, "127.0.0.1");
    await once(created, "listening");
    server = created;
  };
  const down = async (): Promise<void> => {
    const current = server;
    server = undefined;
    if (current === undefined) return;
    const closed = new Promise<void>((resolve) => current.close(() => resolve()));
    current.closeAllConnections();
    await closed;
  };
  await listen();
  return {
    url: `http://127.0.0.1:${port}`,
    deliveries,
    total: () => total,
    down,
    up: listen,
    close: down,
  };
}
