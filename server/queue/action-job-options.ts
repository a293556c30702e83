/**
 * Bull options and the backoff strategy for action jobs. A forward's `retry` gives the attempts and the
 * backoff: `fixed` (the delay every time) or `exponential` (doubling, with jitter, capped at `max_delay`);
 * a destination's Retry-After is honoured when longer. Deferrals (an open circuit breaker) wait exactly
 * as long as the breaker asks and do not count as attempts. Vobiz actions run at most once: they
 * are retried (up to VOBIZ_ATTEMPTS) only when their request provably did not reach Vobiz.
 */
import type Bull from "bull";
import { parseDuration } from "../config/duration.ts";
import type { Action } from "../rules/rule-file-types.ts";

export const ACTION_BACKOFF = "switchboard";

/** A vobiz action's attempts: each retry follows a request that provably did not reach Vobiz. */
export const VOBIZ_ATTEMPTS = 5;

/** A forward's retries when its rule says nothing (SPEC §4.2). */
export const DEFAULT_RETRY = { attempts: 4, backoff: "exponential", delay: "2s", max_delay: "10m" } as const;

export interface BackoffOptions {
  kind: "fixed" | "exponential";
  delayMs: number;
  maxDelayMs: number;
}

/** Thrown by the action job to ask for a retry after a given wait (breaker deferral or Retry-After). */
export class RetryLater extends Error {
  constructor(
    message: string,
    /** the real attempt number (deferrals excluded), for the exponential backoff */
    readonly attempt: number,
    /** wait at least this long */
    readonly waitMs = 0,
    /** a deferral: wait exactly `waitMs` */
    readonly deferral = false,
  ) {
    super(message);
    this.name = "RetryLater";
  }
}

export function actionBackoff(attemptsMade: number, error: Error, options: BackoffOptions | null): number {
  const retry = error instanceof RetryLater ? error : undefined;
  if (retry?.deferral) return Math.max(1, retry.waitMs);
  const settings = options ?? { kind: "exponential", delayMs: 2000, maxDelayMs: 600_000 };
  const attempt = retry?.attempt ?? attemptsMade;
  const base =
    settings.kind === "fixed"
      ? settings.delayMs
      : Math.min(settings.maxDelayMs, settings.delayMs * 2 ** Math.max(0, attempt - 1)) *
        (0.5 + Math.random() / 2);
  return Math.max(1, Math.round(Math.max(base, retry?.waitMs ?? 0)));
}

const optionsOf = new WeakMap<Action, Bull.JobOptions>();

/** The Bull options of an action's jobs; the same object for the same (compiled) action. */
export function jobOptionsFor(action: Action): Bull.JobOptions {
  let options = optionsOf.get(action);
  if (options === undefined) {
    options = Object.freeze(optionsFrom(action));
    optionsOf.set(action, options);
  }
  return options;
}

function optionsFrom(action: Action): Bull.JobOptions {
  const base: Bull.JobOptions = {
    removeOnComplete: true, // the trace is the history: a completed job is deleted with its completion
    removeOnFail: { age: 7 * 86_400 },
  };
  if (action.type === "vobiz") {
    // retried only when the request provably did not reach Vobiz (actions/run-vobiz.ts decides)
    const options: BackoffOptions = { kind: "exponential", delayMs: 1000, maxDelayMs: 60_000 };
    return { ...base, attempts: VOBIZ_ATTEMPTS, backoff: { type: ACTION_BACKOFF, options } };
  }
  if (action.type !== "forward") return { ...base, attempts: 1 };
  const retry = { ...DEFAULT_RETRY, ...action.retry };
  const options: BackoffOptions = {
    kind: retry.backoff,
    delayMs: parseDuration(retry.delay) ?? 2000,
    maxDelayMs: parseDuration(retry.max_delay) ?? 600_000,
  };
  return { ...base, attempts: retry.attempts, backoff: { type: ACTION_BACKOFF, options } };
}
