/**
 * How long Node's HTTP server lets a client take over a request (SPEC §2: nothing a client sends may stop
 * the service). A client that connects and sends nothing, trickles its request head, or trickles its body
 * is answered 408 and disconnected once its time is up, so slow or silent connections cannot pile up and
 * hold sockets while Vobiz waits on /answer.
 */
import { createServer, type RequestListener, type Server } from "node:http";

export interface ServerLimits {
  /** HTTP_HEADERS_TIMEOUT: the whole request head (a new connection that sends nothing counts too) */
  headersTimeoutMs: number;
  /** HTTP_REQUEST_TIMEOUT: the whole request, head and body */
  requestTimeoutMs: number;
}

/**
 * An HTTP server (what Koa's `app.listen` makes) with those limits. Node checks them every
 * `connectionsCheckingInterval`, 30 s by default, which would let a client overstay by as much: here a
 * tenth of the headers timeout, at most 1 s. That interval is only read when the server is created.
 */
export function createLimitedServer(listener: RequestListener, limits: ServerLimits): Server {
  return createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      connectionsCheckingInterval: Math.min(1000, Math.max(50, Math.round(limits.headersTimeoutMs / 10))),
    },
    listener,
  );
}
