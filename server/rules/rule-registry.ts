/** A loaded ruleset's identity (SPEC §4.5). */
export interface RulesetVersion {
  commit: string | null;
  hash: string;
  loadedAt: string;
}

/** Holds the current ruleset; swapped atomically on reload. */
export class RuleRegistry<T> {
  #current: { ruleset: T; version: RulesetVersion } | undefined;

  get current(): { ruleset: T; version: RulesetVersion } | undefined {
    return this.#current;
  }

  swap(ruleset: T, version: RulesetVersion): void {
    this.#current = { ruleset, version };
  }
}
