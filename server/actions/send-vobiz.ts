/**
 * One request to the Vobiz REST API (X-Auth-ID / X-Auth-Token, JSON body) and what its outcome means for
 * an action that must run at most once:
 * - `done`: 2xx (and 404 on a hangup: the call had already ended);
 * - `not_sent`: provably no effect, worth retrying: the connection was never made (refused, DNS, connect
 *   timeout), or Vobiz refused the request with 408, 429 or 5xx (its Retry-After kept);
 * - `refused`: any other 4xx, for good;
 * - `unknown`: the request may have reached Vobiz and nobody knows what it did (a timeout or a dropped
 *   connection once the request was being written): never retried on its own.
 * Never throws.
 */
import { Agent, request } from "undici";
import type { VobizRequest } from "./vobiz-request.ts";

export interface VobizOutcome {
  verdict: "done" | "not_sent" | "refused" | "unknown";
  at: string;
  /** `DELETE /api/v1/Account/…/Call/…/` */
  request: string;
  status?: number;
  latencyMs: number;
  error?: string;
  retryAfterMs?: number;
  api_id?: string;
  request_uuid?: string;
  message?: string;
  note?: string;
}

export interface VobizTarget {
  apiUrl: string;
  authId: string;
  authToken: string;
  timeoutMs: number;
  userAgent: string;
}

/** errors raised before a byte of the request could be written */
const BEFORE_WRITE = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_CONNECT_TIMEOUT",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "CERT_HAS_EXPIRED",
  // the sender was closed (shutdown) before the request was dispatched
  "UND_ERR_CLOSED",
]);

function errorCode(error: unknown): string | undefined {
  let current = error as { code?: unknown; cause?: unknown; errors?: unknown[] } | undefined;
  for (let depth = 0; current !== undefined && depth < 5; depth += 1) {
    if (typeof current.code === "string") return current.code;
    // AggregateError (happy eyeballs): every address refused
    const first = Array.isArray(current.errors) ? (current.errors[0] as typeof current) : undefined;
    current = (current.cause as typeof current) ?? first;
  }
  return undefined;
}

function retryAfter(value: string | string[] | undefined): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined) return undefined;
  const seconds = Number(text);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

const RETRYABLE = (status: number): boolean => status === 408 || status === 429 || status >= 500;

export interface VobizSender {
  send(request: VobizRequest, isHangup: boolean): Promise<VobizOutcome>;
  close(): Promise<void>;
}

export function createVobizSender(target: VobizTarget): VobizSender {
  // Vobiz's own connection pool: a connection that cannot be made fails fast and is known unsent
  const agent = new Agent({ connect: { timeout: Math.min(5000, target.timeoutMs) }, keepAliveTimeout: 4000 });
  return {
    async send(req, isHangup) {
      const at = new Date().toISOString();
      const line = `${req.method} ${req.path}`;
      const started = performance.now();
      const latency = (): number => Math.round(performance.now() - started);
      let status: number;
      let text: string;
      let after: number | undefined;
      try {
        const response = await request(`${target.apiUrl}${req.path}`, {
          method: req.method,
          dispatcher: agent,
          headers: {
            "x-auth-id": target.authId,
            "x-auth-token": target.authToken,
            accept: "application/json",
            "user-agent": target.userAgent,
            ...(req.body === undefined ? {} : { "content-type": "application/json" }),
          },
          body: req.body === undefined ? undefined : JSON.stringify(req.body),
          signal: AbortSignal.timeout(target.timeoutMs),
        });
        status = response.statusCode;
        after = retryAfter(response.headers["retry-after"]);
        text = await response.body.text();
      } catch (error) {
        const code = errorCode(error);
        const message = error instanceof Error ? error.message || error.name : String(error);
        const said = code === undefined ? message : `${code}: ${message}`;
        return code !== undefined && BEFORE_WRITE.has(code)
          ? { verdict: "not_sent", at, request: line, latencyMs: latency(), error: said }
          : {
              verdict: "unknown",
              at,
              request: line,
              latencyMs: latency(),
              error: `${said} (the request may have reached Vobiz)`,
            };
      }
      let parsed: Record<string, unknown> = {};
      try {
        const value = JSON.parse(text) as unknown;
        if (value !== null && typeof value === "object") parsed = value as Record<string, unknown>;
      } catch {
        // no JSON body (a 204, or an HTML error page): the status says enough
      }
      const fields = {
        at,
        request: line,
        status,
        latencyMs: latency(),
        ...(typeof parsed.api_id === "string" ? { api_id: parsed.api_id } : {}),
        ...(typeof parsed.request_uuid === "string" ? { request_uuid: parsed.request_uuid } : {}),
        ...(typeof parsed.message === "string" ? { message: parsed.message.slice(0, 200) } : {}),
        ...(typeof parsed.error === "string" ? { error: parsed.error.slice(0, 200) } : {}),
      };
      if (status >= 200 && status < 300) return { verdict: "done", ...fields };
      if (status === 404 && isHangup)
        return { verdict: "done", ...fields, note: "the call had already ended (404): nothing to hang up" };
      if (RETRYABLE(status))
        return { verdict: "not_sent", ...fields, ...(after === undefined ? {} : { retryAfterMs: after }) };
      return { verdict: "refused", ...fields };
    },
    close: () => agent.close(),
  };
}
