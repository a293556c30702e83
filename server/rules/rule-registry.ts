import type { RulesetVersion } from "./ruleset-version.ts";

/**
 * Holds the current ruleset. A swap replaces one reference, so a request or job that already read
 * `current` finishes with the ruleset it started with and nothing ever waits for a reload.
 */
export class RuleRegistry<T> {
  #current: { ruleset: T; version: RulesetVersion } | undefined;

  get current(): { ruleset: T; version: RulesetVersion } | undefined {
    return this.#current;
  }

  swap(ruleset: T, version: RulesetVersion): void {
    this.#current = { ruleset, version };
  }
}
