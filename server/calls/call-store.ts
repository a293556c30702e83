/**
 * Calls placed through Switchboard (SPEC §6.3) and their per-call callback settings: the most specific
 * level of the callback hierarchy. Kept in Redis for the event retention, keyed by Switchboard's call id
 * (the `?call=` on the URLs Vobiz is given).
 */
import type { Redis } from "ioredis";

export interface CallRecord {
  id: string;
  request_uuid: string;
  from: string;
  to: string;
  status_url?: string;
  status_method?: "GET" | "POST";
  /** empty or missing: every event */
  status_events?: string[];
  createdAt: string;
}

export interface CallStore {
  put(call: CallRecord): Promise<void>;
  get(id: string): Promise<CallRecord | undefined>;
}

export function createCallStore(redis: Redis, prefix: string, retentionMs: number): CallStore {
  const key = (id: string): string => `${prefix}:call:${id}`;
  return {
    async put(call) {
      await redis.set(key(call.id), JSON.stringify(call), "PX", retentionMs);
    },
    async get(id) {
      const text = await redis.get(key(id));
      return text === null ? undefined : (JSON.parse(text) as CallRecord);
    },
  };
}
