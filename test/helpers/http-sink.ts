import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after } from "node:test";

export interface CapturedRequest {
  method: string;
  /** path and query as received */
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
  at: number;
}

export interface SinkResponse {
  status?: number;
  body?: string;
  headers?: Record<string, string>;
  /** wait this long before answering (a slow destination) */
  delayMs?: number;
}

export interface HttpSink {
  url: string;
  requests: CapturedRequest[];
  /** the most requests that were waiting for their answer at the same time */
  maxInFlight: number;
  /** resolves once at least `count` requests arrived (rejects after `timeoutMs`) */
  waitFor(count: number, timeoutMs?: number): Promise<CapturedRequest[]>;
  close(): Promise<void>;
}

/**
 * A real HTTP server on 127.0.0.1 and a free port that records every request, for forward destinations in
 * tests. `respond` decides each answer (by default 200 "ok"); it gets the request and its 1-based number.
 * Closed after the file's tests.
 */
export async function startHttpSink(
  respond: (request: CapturedRequest, n: number) => SinkResponse = () => ({}),
): Promise<HttpSink> {
  const requests: CapturedRequest[] = [];
  const waiters: Array<() => void> = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const captured: CapturedRequest = {
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
        at: Date.now(),
      };
      requests.push(captured);
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      for (const wake of waiters.splice(0)) wake();
      const answer = respond(captured, requests.length);
      const send = (): void => {
        inFlight -= 1;
        res.writeHead(answer.status ?? 200, { "content-type": "text/plain", ...answer.headers });
        res.end(answer.body ?? "ok");
      };
      if (answer.delayMs) setTimeout(send, answer.delayMs).unref();
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closed ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }));
  after(close);
  return {
    url,
    requests,
    get maxInFlight() {
      return maxInFlight;
    },
    close,
    async waitFor(count, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (requests.length < count) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`expected ${count} requests at ${url}, got ${requests.length}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      return requests;
    },
  };
}
