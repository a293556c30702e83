/**
 * The one cap on deliveries a process runs at once (ACTION_CONCURRENCY), whether the job was taken at
 * claim time or from the queue. Jobs from the queue wait for a slot in arrival order; a claim takes slots
 * only when none is awaited, so deliveries in the request's wake never jump the queue's.
 */
export class DeliverySlots {
  #inUse = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(readonly limit: number) {}

  get inUse(): number {
    return this.#inUse;
  }

  /** takes up to `wanted` slots at once, without waiting; returns how many it got */
  tryTake(wanted: number): number {
    if (this.#waiting.length > 0) return 0;
    const granted = Math.max(0, Math.min(wanted, this.limit - this.#inUse));
    this.#inUse += granted;
    return granted;
  }

  /** waits for one slot */
  take(): Promise<void> {
    if (this.#waiting.length === 0 && this.#inUse < this.limit) {
      this.#inUse += 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  give(count = 1): void {
    for (let i = 0; i < count; i += 1) {
      const next = this.#waiting.shift();
      if (next === undefined) this.#inUse -= 1;
      else next(); // the slot passes to the next waiter
    }
  }
}
