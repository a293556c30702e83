import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** Event types that get their own label value; anything else is counted as "other" (bounded cardinality). */
export const KNOWN_EVENT_TYPES = new Set([
  "StartApp", "Ring", "Hangup", "CallInitiated", "Record", "RecordStop", "DialAnswer", "DialConnected",
  "DialHangup", "DialAction", "DialDigitsMatch", "ConferenceEnter", "ConferenceExit", "ConferenceRemoteSounds",
  "ConferenceDigitsMatch", "MachineDetection", "Redirect", "Transfer", "StartStream", "PlayedStream",
  "ClearedAudio", "DegradedStream", "DroppedStream", "StopStream", "Gather", "Request", "unknown",
]); // prettier-ignore

export function typeLabel(type: string): string {
  return KNOWN_EVENT_TYPES.has(type) ? type : "other";
}

export type Metrics = ReturnType<typeof createMetrics>;

/**
 * `inc(a, b, c)` on a counter's child for those label values, made once and kept: prom-client hashes the
 * label object on every plain `inc({...})` call, a cost visible on the ingest path.
 */
export function labelled<T extends string>(counter: Counter<T>): (...values: string[]) => void {
  const children = new Map<string, { inc(): void }>();
  return (...values) => {
    const key = values.join("\u0000");
    let child = children.get(key);
    if (child === undefined) {
      child = counter.labels(...values);
      children.set(key, child);
    }
    child.inc();
  };
}

/** What `switchboard_build_info` says: the package version and the commit it was built from. */
export interface BuildInfo {
  version: string;
  commit: string;
}

/**
 * One registry per process (built in main.ts, passed down), exposed on /metrics. prom-client's default
 * metrics keep their standard names (`process_cpu_seconds_total`, `nodejs_eventloop_lag_seconds`, …) so
 * stock Node.js dashboards find them.
 */
export function createMetrics(build: BuildInfo = { version: "unknown", commit: "unknown" }) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: "switchboard_build_info",
    help: "Always 1; the labels say which version and commit this process runs",
    labelNames: ["version", "commit"] as const,
    registers: [registry],
  }).set({ version: build.version, commit: build.commit }, 1);
  return {
    registry,
    eventsReceived: new Counter({
      name: "switchboard_events_received_total",
      help: "Requests to /events and /answer by route, event type and outcome",
      labelNames: ["route", "type", "outcome"] as const,
      registers: [registry],
    }),
    signatureFailures: new Counter({
      name: "switchboard_signature_failures_total",
      help: "Refused Vobiz signatures by reason",
      labelNames: ["reason"] as const,
      registers: [registry],
    }),
    duplicates: new Counter({
      name: "switchboard_duplicates_total",
      help: "Deliveries recognised as duplicates (same path and body, or same nonce and body, within 24 h)",
      labelNames: ["route"] as const,
      registers: [registry],
    }),
    ingestLatency: new Histogram({
      name: "switchboard_ingest_duration_seconds",
      help: "Time from request start to the event being stored",
      labelNames: ["route"] as const,
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
    ruleMatches: new Counter({
      name: "switchboard_rule_matches_total",
      help: "Events matched, by rule id",
      labelNames: ["rule"] as const,
      registers: [registry],
    }),
    reloads: new Counter({
      name: "switchboard_ruleset_reloads_total",
      help: "Ruleset loads on this instance by outcome (loaded, refused)",
      labelNames: ["outcome"] as const,
      registers: [registry],
    }),
    actions: new Counter({
      name: "switchboard_actions_total",
      help: "Action jobs finished, by action type and outcome",
      labelNames: ["type", "outcome"] as const,
      registers: [registry],
    }),
    actionRuns: new Counter({
      name: "switchboard_action_runs_total",
      help: "Action job runs by where they started: request (at once, in the process that received the event) or queue",
      labelNames: ["started"] as const,
      registers: [registry],
    }),
    deliveries: new Counter({
      name: "switchboard_deliveries_total",
      help: "Forward attempts by destination host and outcome (delivered, retry, permanent, fallback_*)",
      labelNames: ["host", "outcome"] as const,
      registers: [registry],
    }),
    deliveryLatency: new Histogram({
      name: "switchboard_delivery_duration_seconds",
      help: "Time of one forward attempt, from sending to the response (or the error)",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    openBreakers: new Gauge({
      name: "switchboard_open_circuit_breakers",
      help: "Destination hosts whose circuit breaker is open",
      registers: [registry],
    }),
    deadLetters: new Gauge({
      name: "switchboard_dead_letters",
      help: "Deliveries waiting in the dead letters",
      registers: [registry],
    }),
    answerLatency: new Histogram({
      name: "switchboard_answer_duration_seconds",
      help: "Time from an /answer request's start to its reply",
      buckets: [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 1.5, 2.5],
      registers: [registry],
    }),
    answerReplies: new Counter({
      name: "switchboard_answer_replies_total",
      help: "/answer replies by outcome (rule, default, empty, fallback) and fallback reason",
      labelNames: ["outcome", "reason"] as const,
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: "switchboard_queue_depth",
      help: "Jobs per queue and state (waiting, active, delayed, failed, paused)",
      labelNames: ["queue", "state"] as const,
      registers: [registry],
    }),
    alerts: new Counter({
      name: "switchboard_alerts_total",
      help: "Operational alerts by kind and outcome (sent, suppressed, dropped, failed)",
      labelNames: ["kind", "outcome"] as const,
      registers: [registry],
    }),
    vobizRequests: new Counter({
      name: "switchboard_vobiz_requests_total",
      help: "Vobiz REST requests of vobiz actions by action and outcome (done, not_sent, refused, unknown)",
      labelNames: ["action", "outcome"] as const,
      registers: [registry],
    }),
    vobizUnknown: new Counter({
      name: "switchboard_vobiz_unknown_total",
      help: "Vobiz actions whose outcome is unknown (may have taken effect; not retried): each needs an operator's decision in the dead letters",
      labelNames: ["action"] as const,
      registers: [registry],
    }),
    vobizRefusals: new Counter({
      name: "switchboard_vobiz_refusals_total",
      help: "Vobiz actions the loop breaker refused, by reason (max_hops, per_number)",
      labelNames: ["action", "reason"] as const,
      registers: [registry],
    }),
  };
}
