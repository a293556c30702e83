/**
 * The dashboard's events-per-minute chart as stacked bars, laid out here (pure) and drawn as SVG by the
 * page's template: no chart library, nothing fetched by the browser.
 */
import type { MinuteCount } from "./events-per-minute.ts";

export interface ChartBar {
  x: number;
  y: number;
  width: number;
  height: number;
  color: string;
  /** the tooltip: minute, series and count */
  title: string;
}

export interface ChartLayout {
  width: number;
  height: number;
  bars: ChartBar[];
  legend: Array<{ name: string; color: string; count: number }>;
  /** the top of the scale */
  max: number;
  /** axis labels: [x, text] */
  ticks: Array<{ x: number; text: string; anchor: "start" | "middle" | "end" }>;
}

export const OUTCOME_COLORS: Record<string, string> = {
  ok: "#2f855a",
  pending: "#d69e2e",
  failed: "#c53030",
};
const TYPE_COLORS = ["#2b6cb0", "#805ad5", "#319795", "#dd6b20", "#d53f8c", "#718096", "#38a169", "#744210"];
const OTHER = "other";

const hhmm = (iso: string): string => iso.slice(11, 16);

export function chartLayout(
  minutes: readonly MinuteCount[],
  by: "type" | "outcome",
  size = { width: 720, height: 150 },
): ChartLayout {
  const series = (minute: MinuteCount): Record<string, number> =>
    by === "outcome" ? minute.byOutcome : minute.byType;
  // series names, busiest first; types past the palette's size are drawn as "other"
  const volume = new Map<string, number>();
  for (const minute of minutes)
    for (const [name, count] of Object.entries(series(minute)))
      volume.set(name, (volume.get(name) ?? 0) + count);
  const names =
    by === "outcome"
      ? ["ok", "pending", "failed"]
      : [...volume.keys()].sort((a, b) => (volume.get(b) ?? 0) - (volume.get(a) ?? 0) || a.localeCompare(b));
  const colorOf = new Map<string, string>();
  names.forEach((name, i) =>
    colorOf.set(name, by === "outcome" ? (OUTCOME_COLORS[name] ?? "#718096") : (TYPE_COLORS[i] ?? "#a0aec0")),
  );
  const group = (name: string): string =>
    by === "type" && names.indexOf(name) >= TYPE_COLORS.length ? OTHER : name;
  const legendCounts = new Map<string, number>();
  for (const name of names)
    legendCounts.set(group(name), (legendCounts.get(group(name)) ?? 0) + (volume.get(name) ?? 0));
  if (legendCounts.has(OTHER)) colorOf.set(OTHER, "#a0aec0");

  const max = Math.max(1, ...minutes.map((m) => Object.values(series(m)).reduce((a, b) => a + b, 0)));
  const slot = size.width / Math.max(minutes.length, 1);
  const width = Math.max(slot - 2, 1);
  const bars: ChartBar[] = [];
  minutes.forEach((minute, i) => {
    let top = size.height;
    const counts = new Map<string, number>();
    for (const [name, count] of Object.entries(series(minute)))
      counts.set(group(name), (counts.get(group(name)) ?? 0) + count);
    for (const name of [...legendCounts.keys()]) {
      const count = counts.get(name) ?? 0;
      if (count === 0) continue;
      const height = (count / max) * size.height;
      top -= height;
      bars.push({
        x: Math.round(i * slot * 100) / 100,
        y: Math.round(top * 100) / 100,
        width: Math.round(width * 100) / 100,
        height: Math.round(height * 100) / 100,
        color: colorOf.get(name) ?? "#a0aec0",
        title: `${hhmm(minute.at)} UTC: ${count} ${name}`,
      });
    }
  });
  // first, middle and last minute; the last label ends at its bar so that it is not cut off
  const last = minutes.length - 1;
  const ticks =
    minutes.length === 0
      ? []
      : [0, Math.floor(minutes.length / 2), last].map((i) => ({
          x: i === last ? size.width : Math.round(i * slot),
          text: hhmm(minutes[i]?.at ?? ""),
          anchor: i === 0 ? ("start" as const) : i === last ? ("end" as const) : ("middle" as const),
        }));
  return {
    ...size,
    bars,
    legend: [...legendCounts.entries()].map(([name, count]) => ({
      name,
      color: colorOf.get(name) ?? "#a0aec0",
      count,
    })),
    max,
    ticks,
  };
}
