/** Drops index entries older than the retention once a minute (their traces have expired by then). */
import type { Redis } from "ioredis";
import type { Logger } from "../logger.ts";
import { trimEventIndex } from "./ingest.ts";

export function startIndexTrim(redis: Redis, prefix: string, retentionMs: number, log: Logger): () => void {
  const timer = setInterval(() => {
    trimEventIndex(redis, prefix, retentionMs).catch((error: unknown) =>
      log.warn({ err: error }, "could not trim the event index"),
    );
  }, 60_000);
  timer.unref();
  return () => clearInterval(timer);
}
