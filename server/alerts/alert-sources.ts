/**
 * Where alerts come from, wired in main.ts around the parts that already exist, so the delivery path
 * itself does not change: the dead letters (an `add` is a dead-lettered delivery), the circuit breakers'
 * open/close hooks, fleet reloads that fail, and the signature-failure counter read once a second.
 * Vobiz actions call `alerts.notify({ kind: "vobiz_unknown", … })` themselves.
 */
import type { BreakerHooks } from "../actions/circuit-breaker.ts";
import type { DeadLetters } from "../actions/dead-letters.ts";
import type { Metrics } from "../metrics.ts";
import type { FleetReload, InstanceReport } from "../rules/fleet-reload.ts";
import type { Alerts } from "./alerts.ts";

/** The dead letters, telling the alerts about every delivery added to them. */
export function alertingDeadLetters(deadLetters: DeadLetters, alerts: Alerts): DeadLetters {
  return {
    ...deadLetters,
    async add(letter) {
      await deadLetters.add(letter);
      alerts.notify({
        kind: "dead_letter",
        summary: `Delivery dead-lettered: rule ${letter.rule} → ${letter.host}: ${letter.reason}`,
        id: letter.id,
        eventId: letter.eventId,
        rule: letter.rule,
        host: letter.host,
        reason: letter.reason,
        retries: letter.retries,
      });
    },
  };
}

export function breakerAlerts(alerts: Alerts): BreakerHooks {
  return {
    opened: (host, failures) =>
      alerts.notify({
        kind: "breaker_open",
        summary: `Circuit breaker opened for ${host} after ${failures} consecutive failures; deliveries there wait`,
        host,
        failures,
      }),
    closed: (host) =>
      alerts.notify({
        kind: "breaker_closed",
        summary: `Circuit breaker closed for ${host}: a probe delivery succeeded`,
        host,
      }),
  };
}

/** Problems of a reload's instance reports, one line each (for the alert). */
type Report = Pick<InstanceReport, "id" | "errors">;

function failures(reports: readonly Report[]): Array<{ instance: string; problems: string[] }> {
  return reports
    .filter((report) => report.errors.length > 0)
    .map((report) => ({
      instance: report.id,
      problems: report.errors
        .slice(0, 5)
        .map((e) =>
          `${e.code} ${e.file ?? ""}${e.line === undefined ? "" : `:${e.line}`} ${e.message}`.trim(),
        ),
    }));
}

/** Tells the alerts when a reload of the rules fails on any instance (or one does not answer). */
export function reloadFailed(alerts: Alerts, reports: readonly Report[], trigger: string): void {
  const failed = failures(reports);
  if (failed.length === 0) return;
  const first = failed[0]?.problems[0] ?? "";
  alerts.notify({
    kind: "reload_failed",
    summary: `Rules reload (${trigger}) refused on ${failed.length} of ${reports.length} instance(s); the previous ruleset keeps serving: ${first}`,
    trigger,
    instances: failed,
  });
}

/** The fleet reload, telling the alerts when any instance refused the new rules or did not answer. */
export function alertingFleet(fleet: FleetReload, alerts: Alerts): FleetReload {
  return {
    get instanceId() {
      return fleet.instanceId;
    },
    start: () => fleet.start(),
    instances: () => fleet.instances(),
    close: () => fleet.close(),
    async reloadAll() {
      const reports = await fleet.reloadAll();
      reloadFailed(alerts, reports, "fleet");
      return reports;
    },
  };
}

/**
 * Reads `switchboard_signature_failures_total` every `everyMs` and alerts when the failures in the last
 * minute reach `perMinute`; once more only after the rate fell below it again (one alert per episode).
 * Returns the stop function.
 */
export function watchSignatureFailures(
  metrics: Pick<Metrics, "signatureFailures">,
  alerts: Alerts,
  options: { perMinute: number; everyMs?: number },
): () => void {
  const everyMs = options.everyMs ?? 1000;
  const samples: Array<{ at: number; byReason: Map<string, number> }> = [];
  let raised = false;
  const read = async (): Promise<Map<string, number>> => {
    const byReason = new Map<string, number>();
    for (const value of (await metrics.signatureFailures.get()).values)
      byReason.set(String(value.labels.reason ?? "?"), value.value);
    return byReason;
  };
  const tick = async (): Promise<void> => {
    const now = Date.now();
    const byReason = await read();
    samples.push({ at: now, byReason });
    while (samples.length > 1 && (samples[1]?.at ?? now) <= now - 60_000) samples.shift();
    const oldest = samples[0]?.byReason ?? new Map<string, number>();
    const recent: Record<string, number> = {};
    let total = 0;
    for (const [reason, value] of byReason) {
      const delta = value - (oldest.get(reason) ?? 0);
      if (delta > 0) recent[reason] = delta;
      total += Math.max(delta, 0);
    }
    if (total >= options.perMinute && !raised) {
      raised = true;
      alerts.notify({
        kind: "signature_failures",
        summary: `${total} refused Vobiz signatures in the last minute (alert at ${options.perMinute}): check VOBIZ_AUTH_TOKEN, or someone is probing /events`,
        failures: total,
        byReason: recent,
        perMinute: options.perMinute,
      });
    } else if (total < options.perMinute) raised = false;
  };
  // the first sample is the baseline: failures counted before the watch started are not in the rate
  void tick();
  const timer = setInterval(() => void tick().catch(() => undefined), everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
