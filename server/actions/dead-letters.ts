/**
 * Dead letters (SPEC §4.2, §7): deliveries that exhausted every attempt and their fallback, each with its
 * whole history and the job data needed to try it again. Stored in Redis (one JSON string per letter
 * and a time index), kept until retried or `retentionMs` has passed.
 */
import type { Redis } from "ioredis";
import type { ActionJobData } from "../queue/job-types.ts";
import type { AttemptOutcome } from "./send-forward.ts";
import type { VobizOutcome } from "./send-vobiz.ts";

export interface DeadLetter {
  /** the action job id: `<event id>:<rule id>:<action index>` */
  id: string;
  eventId: string;
  rule: string;
  host: string;
  failedAt: string;
  reason: string;
  attempts: Array<AttemptOutcome | VobizOutcome>;
  job: ActionJobData;
  /** how many times it was retried from here before */
  retries: number;
  /**
   * a vobiz action whose outcome is unknown (it may have taken effect): what the operator must check
   * before retrying it; a retry sends it again
   */
  needs_decision?: string;
}

export interface DeadLetterQuery {
  /** the `next` of the previous page */
  cursor?: string;
  limit?: number;
  rule?: string;
  host?: string;
}

export interface DeadLetters {
  add(letter: DeadLetter): Promise<void>;
  get(id: string): Promise<DeadLetter | undefined>;
  /** newest first */
  list(query?: DeadLetterQuery): Promise<{ items: DeadLetter[]; next: string | null }>;
  remove(id: string): Promise<boolean>;
  count(): Promise<number>;
}

export function createDeadLetters(redis: Redis, prefix: string, retentionMs = 30 * 86_400_000): DeadLetters {
  const index = `${prefix}:dead:index`;
  const key = (id: string): string => `${prefix}:dead:${id}`;
  const trim = (): Promise<number> => redis.zremrangebyscore(index, "-inf", Date.now() - retentionMs);
  const get = async (id: string): Promise<DeadLetter | undefined> => {
    const text = await redis.get(key(id));
    return text === null ? undefined : (JSON.parse(text) as DeadLetter);
  };
  return {
    async add(letter) {
      await redis
        .multi()
        .set(key(letter.id), JSON.stringify(letter), "PX", retentionMs)
        .zadd(index, Date.parse(letter.failedAt), letter.id)
        .exec();
    },
    get,
    async list(query = {}) {
      await trim();
      const limit = Math.min(Math.max(query.limit ?? 50, 1), 500);
      const items: DeadLetter[] = [];
      let offset = Number(query.cursor ?? 0) || 0;
      // read pages of ids until `limit` letters pass the filters (or the index ends)
      for (;;) {
        const ids = await redis.zrevrange(index, offset, offset + limit * 2 - 1);
        if (ids.length === 0) return { items, next: null };
        for (const id of ids) {
          offset += 1;
          const letter = await get(id);
          if (letter === undefined) continue;
          if (query.rule !== undefined && letter.rule !== query.rule) continue;
          if (query.host !== undefined && letter.host !== query.host) continue;
          items.push(letter);
          if (items.length === limit) return { items, next: String(offset) };
        }
      }
    },
    async remove(id) {
      const [[, removed] = []] = (await redis.multi().del(key(id)).zrem(index, id).exec()) ?? [];
      return removed === 1;
    },
    count: async () => {
      await trim();
      return redis.zcard(index);
    },
  };
}
