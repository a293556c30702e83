/**
 * The CPU budget of one evaluation (README "Writing rules"). Reading the process's CPU time is a system
 * call, so the common path only reads the monotonic clock: an evaluation that finishes within `budgetMs`
 * of wall time never looks further. Once it has run that long, the CPU time is read, and the evaluation is
 * over budget when it has also used `budgetMs / 2` of CPU since then. So a heavy evaluation is stopped
 * after about 1.5 × `budgetMs` on an idle machine, while one that only waited for a busy machine's CPU
 * (or for the garbage collector) is left to finish.
 */
const cpuMs = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

export class EvaluationBudget {
  readonly budgetMs: number;
  /** performance.now() before which the budget cannot be spent */
  #deadline: number;
  /** CPU time when the wall-clock budget ran out (undefined before) */
  #cpuMark: number | undefined;

  constructor(budgetMs: number, now = performance.now()) {
    this.budgetMs = budgetMs;
    this.#deadline = now + budgetMs;
  }

  /** Whether the budget is spent. Cheap until the evaluation has run `budgetMs` of wall time. */
  spent(): boolean {
    const now = performance.now();
    if (now <= this.#deadline) return false;
    const cpu = cpuMs();
    this.#cpuMark ??= cpu;
    const left = this.budgetMs / 2 - (cpu - this.#cpuMark);
    if (left <= 0) return true;
    this.#deadline = now + left; // the earliest the CPU time could run out
    return false;
  }

  /** Leaves the time `work` takes out of the budget (the dry run's explanations). */
  exclude<T>(work: () => T): T {
    const started = performance.now();
    const cpu = this.#cpuMark === undefined ? 0 : cpuMs();
    try {
      return work();
    } finally {
      this.#deadline += performance.now() - started;
      if (this.#cpuMark !== undefined) this.#cpuMark += cpuMs() - cpu;
    }
  }
}
