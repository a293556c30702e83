/**
 * A Redis command issued many times during one turn of the event loop, sent in one write: the calls are
 * collected in an ioredis pipeline that is flushed from setImmediate (after the loop has handled every
 * socket that was ready), and each call gets its own reply or error. Under load a turn handles several
 * requests, and a write system call cost about as much as the rest of a command's client-side work.
 * ioredis' autopipelining batches only within one tick (one socket's callback), too narrow for that.
 */
import type { ChainableCommander, Redis } from "ioredis";

type Settle = [resolve: (value: unknown) => void, reject: (error: unknown) => void];

export function loopBatched<R>(
  redis: Redis,
  command: string,
): (...args: Array<string | number | Buffer>) => Promise<R> {
  if (typeof (redis as unknown as Record<string, unknown>)[command] !== "function") {
    throw new Error(`not a command of this connection: ${command}`);
  }
  let pending: { pipeline: ChainableCommander; settle: Settle[] } | undefined;
  const flush = (): void => {
    const batch = pending;
    pending = undefined;
    if (batch === undefined) return;
    batch.pipeline.exec().then(
      (results) => {
        batch.settle.forEach(([resolve, reject], i) => {
          const [error, value] = results?.[i] ?? [new Error("no reply from Redis"), undefined];
          if (error) reject(error);
          else resolve(value);
        });
      },
      (error: unknown) => {
        for (const [, reject] of batch.settle) reject(error);
      },
    );
  };
  return (...args) =>
    new Promise<R>((resolve, reject) => {
      if (pending === undefined) {
        pending = { pipeline: redis.pipeline(), settle: [] };
        setImmediate(flush);
      }
      const add = (pending.pipeline as unknown as Record<string, (...a: unknown[]) => unknown>)[command];
      add!.apply(pending.pipeline, args);
      pending.settle.push([resolve as (value: unknown) => void, reject]);
    });
}
