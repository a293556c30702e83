/**
 * Operational alerts (docs/operations.md "Alerts"): `ALERT_URL` is told, in a Slack-compatible JSON body
 * (`{"text": …}` plus structured fields), signed the Standard Webhooks way with `ALERT_SECRET`, when a
 * delivery is dead-lettered, a circuit breaker opens or closes, a fleet reload fails, signature failures
 * exceed a rate, or a Vobiz action ends `unknown`.
 *
 * `notify` never blocks and never throws: it returns at once; alerts are sent one at a time from a
 * bounded queue, each with a timeout; a failure is logged and counted, never retried. Per kind, at most
 * one alert is sent per interval (ALERT_INTERVAL, 1m): the first goes at once, later ones in the same
 * interval are counted and the last of them is sent when the interval ends, with `suppressed` saying how
 * many were folded into it.
 */
import { hostname } from "node:os";
import { webhookHeaders } from "../actions/standard-webhooks.ts";
import { newRequestId } from "../ids.ts";
import type { Logger } from "../logger.ts";
import type { Metrics } from "../metrics.ts";

export const ALERT_KINDS = [
  "dead_letter",
  "breaker_open",
  "breaker_closed",
  "reload_failed",
  "signature_failures",
  "vobiz_unknown",
] as const;

export type AlertKind = (typeof ALERT_KINDS)[number];

/**
 * One alert: its kind, an optional one-line summary (a default per kind otherwise) and structured fields
 * (ids, hosts, reasons; never secrets or payloads), e.g.
 * `alerts.notify({ kind: "vobiz_unknown", eventId, rule, action: "hangup", reason: "timeout" })`.
 */
export interface Alert {
  kind: AlertKind;
  summary?: string;
  [field: string]: unknown;
}

export interface Alerts {
  /** queues the alert (rate-limited per kind); returns at once, never throws */
  notify(alert: Alert): void;
  /**
   * Gives the alerts already queued up to one timeout to be sent, then gives up on the rest; alerts held
   * back by the rate limit are dropped.
   */
  close(): Promise<void>;
}

export interface AlertOptions {
  url: string | undefined;
  secret: string | undefined;
  /** at most one alert per kind per interval; 0 = no limit */
  intervalMs: number;
  log: Logger;
  metrics?: Pick<Metrics, "alerts">;
  /** one POST's timeout */
  timeoutMs?: number;
  /** alerts waiting to be sent at most; more are dropped (logged, counted) */
  maxQueued?: number;
  /** names this process in the alert (default host:pid) */
  instance?: string;
}

const DEFAULT_SUMMARY: Record<AlertKind, string> = {
  dead_letter: "A delivery was dead-lettered",
  breaker_open: "A circuit breaker opened",
  breaker_closed: "A circuit breaker closed",
  reload_failed: "A fleet reload failed",
  signature_failures: "Signature failures exceed the alert rate",
  vobiz_unknown: "A Vobiz action ended unknown",
};

/** Alerts that go nowhere (ALERT_URL unset): notify is a no-op. */
export const NO_ALERTS: Alerts = { notify: () => undefined, close: () => Promise.resolve() };

interface Window {
  until: number;
  suppressed: number;
  last: Alert | undefined;
  timer: NodeJS.Timeout | undefined;
}

export function createAlerts(options: AlertOptions): Alerts {
  const { url, secret, log } = options;
  if (url === undefined || secret === undefined) return NO_ALERTS;
  const timeoutMs = options.timeoutMs ?? 5000;
  const maxQueued = options.maxQueued ?? 50;
  const instance = options.instance ?? `${hostname()}:${process.pid}`;
  const count = (kind: AlertKind, outcome: string): void => options.metrics?.alerts.inc({ kind, outcome });
  const windows = new Map<AlertKind, Window>();
  const queue: string[] = [];
  let sending: Promise<void> | undefined;
  let closed = false;
  const shutdown = new AbortController();

  const post = async (body: string): Promise<void> => {
    const headers = webhookHeaders(secret, `msg_${newRequestId()}`, body);
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": "Switchboard-Alerts", ...headers },
      body,
      signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), shutdown.signal]),
    });
    await response.body?.cancel();
    if (response.status >= 300) throw new Error(`ALERT_URL answered ${response.status}`);
  };

  const drain = async (): Promise<void> => {
    for (let body = queue.shift(); body !== undefined; body = queue.shift()) {
      const kind = (JSON.parse(body) as { kind: AlertKind }).kind;
      try {
        await post(body);
        count(kind, "sent");
      } catch (error) {
        count(kind, "failed");
        log.warn({ err: error, kind }, "alert not sent");
      }
    }
  };

  const enqueue = (alert: Alert, suppressed: number, since: number | undefined): void => {
    const { kind, summary, ...fields } = alert;
    let text = `[switchboard] ${summary ?? DEFAULT_SUMMARY[kind]}`;
    if (suppressed > 0)
      text += ` (and ${suppressed} more ${kind} alert(s) since ${new Date(since ?? Date.now()).toISOString()})`;
    const body = JSON.stringify({
      text,
      kind,
      at: new Date().toISOString(),
      instance,
      suppressed,
      fields,
    });
    if (queue.length >= maxQueued) {
      count(kind, "dropped");
      log.warn({ kind, queued: queue.length }, "alert dropped: the alert queue is full");
      return;
    }
    queue.push(body);
    sending ??= drain().finally(() => (sending = undefined));
  };

  const windowOf = (kind: AlertKind): Window => {
    let window = windows.get(kind);
    if (window === undefined) {
      window = { until: 0, suppressed: 0, last: undefined, timer: undefined };
      windows.set(kind, window);
    }
    return window;
  };

  /** the interval ended with alerts held back: send the last one, with how many it stands for */
  const flush = (kind: AlertKind): void => {
    const window = windowOf(kind);
    window.timer = undefined;
    if (window.last === undefined || closed) return;
    const since = window.until - options.intervalMs;
    enqueue(window.last, window.suppressed - 1, since);
    window.until = Date.now() + options.intervalMs;
    window.suppressed = 0;
    window.last = undefined;
  };

  return {
    notify(alert) {
      try {
        if (closed || !ALERT_KINDS.includes(alert.kind)) return;
        const window = windowOf(alert.kind);
        const now = Date.now();
        if (now >= window.until && window.last === undefined) {
          window.until = now + options.intervalMs;
          enqueue(alert, 0, undefined);
          return;
        }
        window.suppressed += 1;
        window.last = alert;
        count(alert.kind, "suppressed");
        if (window.timer === undefined) {
          window.timer = setTimeout(() => flush(alert.kind), Math.max(window.until - now, 0));
          window.timer.unref();
        }
      } catch (error) {
        log.warn({ err: error, kind: alert.kind }, "alert not queued");
      }
    },
    async close() {
      closed = true;
      for (const window of windows.values()) if (window.timer) clearTimeout(window.timer);
      const giveUp = setTimeout(() => shutdown.abort(new Error("shutting down")), timeoutMs);
      await sending;
      clearTimeout(giveUp);
    },
  };
}
