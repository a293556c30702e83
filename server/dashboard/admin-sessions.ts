/**
 * Dashboard sessions: a browser that signed in with ADMIN_TOKEN holds a random session id in an HttpOnly
 * cookie (never the token). Redis keeps only the id's SHA-256, with the session's expiry, so a Redis dump
 * does not hold live cookies and every instance of the fleet accepts the same session.
 */
import { createHash, randomBytes } from "node:crypto";
import type { Redis } from "ioredis";

export const ADMIN_SESSION_TTL_MS = 12 * 3_600_000;

export interface AdminSessions {
  /** a new session id, valid for `ttlMs` */
  create(): Promise<string>;
  valid(id: string): Promise<boolean>;
  end(id: string): Promise<void>;
  readonly ttlMs: number;
}

const SESSION_ID_RE = /^[A-Za-z0-9_-]{43}$/;

export function createAdminSessions(
  redis: Pick<Redis, "set" | "exists" | "del">,
  prefix: string,
  ttlMs = ADMIN_SESSION_TTL_MS,
): AdminSessions {
  const key = (id: string): string =>
    `${prefix}:admin:session:${createHash("sha256").update(id).digest("hex")}`;
  return {
    ttlMs,
    async create() {
      const id = randomBytes(32).toString("base64url");
      await redis.set(key(id), "1", "PX", ttlMs);
      return id;
    },
    async valid(id) {
      if (!SESSION_ID_RE.test(id)) return false;
      return (await redis.exists(key(id))) === 1;
    },
    async end(id) {
      if (SESSION_ID_RE.test(id)) await redis.del(key(id));
    },
  };
}
