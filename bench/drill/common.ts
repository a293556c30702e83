/** What every part of the fault drill shares: the service's secrets, the load's rate, waiting for a condition. */
import { pino } from "pino";

export const TOKEN = "drill-auth-token";
export const ADMIN = "drill-admin-token-0123456789";
export const PUBLIC_URL = "https://switchboard.drill.example";
export const OUTAGE_MS = parseSeconds(process.env.DRILL_OUTAGE ?? "120s");
export const RATE = Number(process.env.DRILL_RATE ?? 40);
export const quiet = pino({ level: "warn" });

export function parseSeconds(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (match === null) throw new Error(`DRILL_OUTAGE=${text}: expected a duration such as 90s or 3m`);
  const unit = match[2] === "ms" ? 1 : match[2] === "m" ? 60_000 : 1000;
  return Number(match[1]) * unit;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `attempt` until it returns a value (not undefined), every 100 ms, for at most `timeoutMs`. */
export async function until<T>(
  what: string,
  attempt: () => Promise<T | undefined>,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await attempt().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

export function note(scenario: string, text: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${scenario}: ${text}\n`);
}
