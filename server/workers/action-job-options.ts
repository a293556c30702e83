import type Bull from "bull";
import { parseDuration } from "../config/duration.ts";
import { DEFAULT_RETRY } from "../actions/compile-actions.ts";
import type { Action } from "../rules/rule-file-types.ts";

/** Bull options for an action's job: a forward's `retry` gives attempts and backoff; vobiz runs at most once. */
export function jobOptionsFor(action: Action): Bull.JobOptions {
  const base: Bull.JobOptions = {
    removeOnComplete: { age: 86_400, count: 10_000 },
    removeOnFail: { age: 7 * 86_400 },
  };
  if (action.type !== "forward") return { ...base, attempts: 1 };
  const retry = { ...DEFAULT_RETRY, ...action.retry };
  return {
    ...base,
    attempts: retry.attempts,
    backoff: { type: retry.backoff, delay: parseDuration(retry.delay) ?? 2000 },
  };
}
