/**
 * The dashboard's HTML, rendered on the server from nunjucks views with autoescape on: every value a
 * view prints is escaped (payloads, rule ids and hosts come from outside). A view never marks a value
 * `safe`. The page's script renders what it fetches with textContent, never as HTML.
 */
import path from "node:path";
import nunjucks from "nunjucks";
import { chartLayout } from "./chart-layout.ts";
import type { Overview } from "./dashboard-overview.ts";

const VIEWS = path.join(import.meta.dirname, "views");

export interface PageRenderer {
  login(input: { error?: { code: string; message: string }; next?: string }): string;
  dashboard(overview: Overview): string;
}

const ago = (iso: string, now: string): string => {
  const seconds = Math.max(0, Math.round((Date.parse(now) - Date.parse(iso)) / 1000));
  if (seconds < 90) return `${seconds} s ago`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min ago`;
  return `${Math.round(seconds / 3600)} h ago`;
};

export function createPageRenderer(): PageRenderer {
  const env = new nunjucks.Environment(new nunjucks.FileSystemLoader(VIEWS), {
    autoescape: true,
    throwOnUndefined: false,
  });
  env.addFilter("ago", ago);
  env.addFilter("short", (value: unknown, length: number = 12) =>
    (typeof value === "string" ? value : "").slice(0, length),
  );
  return {
    login: (input) => env.render("login.njk", input),
    dashboard: (overview) =>
      env.render("dashboard.njk", {
        ...overview,
        charts: [
          { title: "by outcome", layout: chartLayout(overview.perMinute.minutes, "outcome") },
          { title: "by type", layout: chartLayout(overview.perMinute.minutes, "type") },
        ],
      }),
  };
}
