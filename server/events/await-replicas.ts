/**
 * REDIS_MIN_REPLICAS: an event is acknowledged only once that many replicas have it. Redis replication is
 * asynchronous, so an event the primary took just before it died can vanish in a failover; `WAIT n t`
 * after the store closes that window (README "Redis in production").
 *
 * WAIT counts the writes of the connection it is sent on, so it goes on the connection that ran the claim
 * script. That connection is shared by concurrent requests, and WAIT waits for every write it made so far:
 * one WAIT therefore confirms every store that finished before it was sent. Stores are grouped that way
 * (at most one WAIT on the wire, the next one sent when it answers, for everything that finished
 * meanwhile), so waiting costs one round trip per group, not one per event. While replicas lag, each WAIT
 * holds the connection for up to the timeout; the requests behind it wait too, and answer 503.
 */
import type { Redis } from "ioredis";
import type { Config } from "../config/load-config.ts";
import { AppError } from "../errors.ts";
import type { Ingest } from "./ingest.ts";

/**
 * Wraps an ingest so that it resolves only once REDIS_MIN_REPLICAS replicas have what it stored (0: the
 * ingest is returned unchanged). `redis` is the connection the wrapped ingest stores with.
 */
export function awaitReplicas(
  ingest: Ingest,
  redis: Redis,
  config: Pick<Config, "redis" | "redisPrefix">,
): Ingest {
  const { minReplicas: replicas, minReplicasTimeoutMs: timeoutMs } = config.redis;
  if (replicas <= 0) return ingest;
  // a duplicate writes this key before it waits (see below)
  const barrierKey = `${config.redisPrefix}:replica-barrier`;
  let onWire: Promise<number> | undefined;
  let queued: Promise<number> | undefined;

  const send = (): Promise<number> => {
    const sent = redis.call("WAIT", replicas, timeoutMs) as Promise<number>;
    onWire = sent;
    const clear = (): void => {
      if (onWire === sent) onWire = undefined;
    };
    sent.then(clear, clear);
    return sent;
  };
  /** the number of replicas that have every write this connection made before the call */
  const acknowledged = (): Promise<number> => {
    if (onWire === undefined) return send();
    // the WAIT on the wire may have left before our write: join the one sent when it answers
    queued ??= onWire
      .then(
        () => undefined,
        () => undefined,
      )
      .then(() => {
        queued = undefined;
        return send();
      });
    return queued;
  };

  return async (event) => {
    const result = await ingest(event);
    let count: number;
    try {
      // a duplicate's first copy may have been stored by another process, and not replicated yet: a write
      // of ours after it makes our WAIT cover it too (replication is in order)
      if (result.duplicate) await redis.incr(barrierKey);
      count = await acknowledged();
    } catch (error) {
      throw new AppError("QUEUE_UNAVAILABLE", undefined, {
        cause: error,
        headers: { "Retry-After": "5" },
      });
    }
    if (count < replicas) {
      throw new AppError(
        "QUEUE_UNAVAILABLE",
        `The event store is unavailable; retry later (${count} of REDIS_MIN_REPLICAS=${replicas} Redis ` +
          `replicas confirmed the event within ${timeoutMs} ms).`,
        {
          cause: new Error(`WAIT ${replicas} ${timeoutMs} answered ${count}`),
          headers: { "Retry-After": "5" },
        },
      );
    }
    return result;
  };
}
