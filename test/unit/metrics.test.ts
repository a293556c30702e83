/**
 * The metrics registry (server/metrics.ts) and the Grafana dashboard built on it (docs/grafana-dashboard.json):
 * every metric and label the dashboard's queries use exists, so the dashboard cannot silently show nothing.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { createMetrics } from "../../server/metrics.ts";

const DASHBOARD = path.resolve(import.meta.dirname, "../../docs/grafana-dashboard.json");
/** labels Prometheus adds to every scraped series, and a histogram bucket's bound */
const TARGET_LABELS = new Set(["instance", "job"]);
const METRIC_RE = /\b((?:switchboard|process|nodejs)_[a-z0-9_]+)(\{[^}]*\})?/g;

interface Panel {
  title: string;
  targets?: Array<{ expr: string }>;
  panels?: Panel[];
}

const metrics = createMetrics({ version: "1.2.3", commit: "abc1234" });
const registered = new Map(
  (await metrics.registry.getMetricsAsJSON()).map((metric) => [
    metric.name,
    { type: String(metric.type), labels: new Set(metric.values.flatMap((v) => Object.keys(v.labels))) },
  ]),
);
// label names declared on the metrics (values may be absent until first use)
for (const metric of metrics.registry.getMetricsAsArray()) {
  const labelNames = (metric as unknown as { labelNames?: string[] }).labelNames ?? [];
  for (const label of labelNames) registered.get(metric.name)?.labels.add(label);
}

/** the registered metric a series name in a query refers to (a histogram's _bucket, _sum, _count) */
function resolve(series: string): { name: string; labels: Set<string> } | undefined {
  for (const name of [series, series.replace(/_(bucket|sum|count)$/, "")]) {
    const metric = registered.get(name);
    if (metric === undefined) continue;
    if (name !== series && metric.type !== "histogram") continue;
    const labels = new Set(metric.labels);
    if (series.endsWith("_bucket")) labels.add("le");
    return { name, labels };
  }
  return undefined;
}

const dashboard = JSON.parse(readFileSync(DASHBOARD, "utf8")) as { panels: Panel[] };
const targets = dashboard.panels
  .flatMap((panel) => [panel, ...(panel.panels ?? [])])
  .flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: target.expr })));

test("the Grafana dashboard queries only metrics this registry exports", () => {
  assert.ok(targets.length >= 30, `the dashboard has its queries (${targets.length})`);
  const unknown: string[] = [];
  for (const { panel, expr } of targets)
    for (const [, series] of expr.matchAll(METRIC_RE))
      if (series !== undefined && resolve(series) === undefined) unknown.push(`${panel}: ${series}`);
  assert.deepEqual(unknown, []);
});

test("the dashboard's label matchers and groupings name labels its metrics have", () => {
  const wrong: string[] = [];
  for (const { panel, expr } of targets) {
    const used = [...expr.matchAll(METRIC_RE)].map(([, series, matchers]) => ({
      metric: resolve(series ?? ""),
      matchers: [...(matchers ?? "").matchAll(/([a-z_]+)\s*(=~|!~|!=|=)/g)].map((m) => m[1] ?? ""),
    }));
    const known = new Set([...TARGET_LABELS, ...used.flatMap(({ metric }) => [...(metric?.labels ?? [])])]);
    for (const { metric, matchers } of used)
      for (const label of matchers)
        if (!TARGET_LABELS.has(label) && !metric?.labels.has(label))
          wrong.push(`${panel}: ${metric?.name}{${label}}`);
    for (const [, group] of expr.matchAll(/\bby \(([^)]*)\)/g))
      for (const label of (group ?? "").split(",").map((l) => l.trim()))
        if (label !== "" && !known.has(label)) wrong.push(`${panel}: by (${label})`);
  }
  assert.deepEqual(wrong, []);
});

test("the Node process metrics keep their standard names (stock dashboards find them)", () => {
  for (const name of [
    "process_cpu_seconds_total",
    "process_resident_memory_bytes",
    "nodejs_eventloop_lag_seconds",
  ])
    assert.ok(registered.has(name), name);
  assert.deepEqual(
    [...registered.keys()].filter((name) => name.startsWith("switchboard_process_")),
    [],
  );
});

test("switchboard_build_info says the version and commit, with the value 1", async () => {
  const text = await metrics.registry.metrics();
  assert.match(text, /^switchboard_build_info\{version="1\.2\.3",commit="abc1234"\} 1$/m);
});
