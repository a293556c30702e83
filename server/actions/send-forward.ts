/**
 * One HTTP attempt of a forward (SPEC §4.2) with undici, and what its outcome means: delivered, worth
 * retrying, or failed for good (4xx other than 408/409/425/429). Never throws: network errors and
 * timeouts are outcomes too. The request line it reports has no query string (queries can carry values).
 */
import { EventEmitter } from "node:events";
import { request } from "undici";
import type { RenderedForward } from "./compile-actions.ts";
import { webhookHeaders } from "./standard-webhooks.ts";

export interface AttemptOutcome {
  /** delivered, retry (may succeed later) or permanent (will not) */
  verdict: "delivered" | "retry" | "permanent";
  at: string;
  /** `POST https://host/path` (no query) */
  request: string;
  status?: number;
  latencyMs: number;
  error?: string;
  /** a 429/503 Retry-After, in ms */
  retryAfterMs?: number;
  signed: boolean;
}

const RETRYABLE_4XX = new Set([408, 409, 425, 429]);

/** Whether a status counts as delivered under a `success` spec such as "2xx" or "2xx,404". */
export function isSuccess(status: number, success: string): boolean {
  return success
    .split(",")
    .some((part) =>
      part.endsWith("xx") ? Math.floor(status / 100) === Number(part[0]) : Number(part) === status,
    );
}

export function classify(status: number, success: string): AttemptOutcome["verdict"] {
  if (isSuccess(status, success)) return "delivered";
  return status >= 400 && status < 500 && !RETRYABLE_4XX.has(status) ? "permanent" : "retry";
}

/** A URL parsed once for the whole attempt (the breaker's host, the request line, undici), or undefined. */
export function parseTarget(url: string): URL | undefined {
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}

export function requestLine(method: string, url: string | URL | undefined): string {
  const parsed = typeof url === "string" ? parseTarget(url) : url;
  return parsed === undefined ? `${method} (invalid URL)` : `${method} ${parsed.origin}${parsed.pathname}`;
}

function retryAfter(value: string | string[] | undefined): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined) return undefined;
  const seconds = Number(text);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/**
 * The forward's `timeout` as one deadline for the whole attempt: connecting, sending, the response
 * headers and the whole body (undici's bodyTimeout restarts on every chunk, so a trickling destination
 * would hold a delivery for as long as it trickles). One timer; the signal is an EventEmitter, which undici
 * accepts like an AbortSignal, because an AbortController per attempt costs much more CPU (measured in
 * docs/BENCHMARKS.md).
 */
class AttemptDeadline extends EventEmitter {
  /** set when the deadline passed; undici fails the request with it */
  reason: Error | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(ms: number) {
    super();
    this.timer = setTimeout(() => {
      this.reason = new Error(`timed out after ${ms} ms`);
      this.emit("abort");
    }, ms);
  }

  clear(): void {
    clearTimeout(this.timer);
  }
}

export interface SendOptions {
  /** the URL (parsed with parseTarget when the caller has it parsed already) */
  url: string | URL | undefined;
  idempotencyKey: string;
  userAgent: string;
  /** a whsec_ secret when the forward is signed and a secret is configured */
  signingSecret: string | undefined;
}

export async function sendForward(forward: RenderedForward, options: SendOptions): Promise<AttemptOutcome> {
  const at = new Date().toISOString();
  const target = typeof options.url === "string" ? parseTarget(options.url) : options.url;
  const line = requestLine(forward.method, target);
  const headers: Record<string, string> = {
    ...forward.headers,
    "user-agent": options.userAgent,
    "idempotency-key": options.idempotencyKey,
  };
  if (forward.content_type !== undefined) headers["content-type"] = forward.content_type;
  const signed = forward.sign && options.signingSecret !== undefined;
  const started = performance.now();
  const deadline = new AttemptDeadline(forward.timeoutMs);
  try {
    if (signed)
      Object.assign(
        headers,
        webhookHeaders(options.signingSecret ?? "", options.idempotencyKey, forward.body ?? ""),
      );
    if (target === undefined) throw new TypeError("Invalid URL"); // as undici says it
    const response = await request(target, {
      method: forward.method as "POST",
      headers,
      body: forward.body,
      signal: deadline,
    });
    // dump() resolves even when the deadline destroyed the body
    await response.body.dump();
    if (deadline.reason !== undefined) throw deadline.reason;
    const latencyMs = Math.round(performance.now() - started);
    const after = retryAfter(response.headers["retry-after"]);
    return {
      verdict: classify(response.statusCode, forward.success),
      at,
      request: line,
      status: response.statusCode,
      latencyMs,
      ...(after === undefined ? {} : { retryAfterMs: after }),
      signed,
    };
  } catch (error) {
    const latencyMs = Math.round(performance.now() - started);
    const message = (deadline.reason ?? (error as Error)).message;
    const invalid = error instanceof TypeError && /url/i.test(message);
    return { verdict: invalid ? "permanent" : "retry", at, request: line, latencyMs, error: message, signed };
  } finally {
    deadline.clear();
  }
}
