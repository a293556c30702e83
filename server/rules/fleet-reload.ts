/**
 * Fleet-wide reload (SPEC §4.5) over Redis pub/sub. The instance that is asked publishes a reload
 * request; every instance (itself included) reloads from its own disk and publishes its outcome on the
 * request's reply channel. PUBLISH returns how many instances heard the request, so the caller knows how
 * many replies to wait for; an instance that does not answer in time is listed with an error.
 *
 * Each instance also keeps a heartbeat (id, role, version) in a Redis hash, so `/admin/rules` and the
 * dashboard can show the fleet.
 */
import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import type { Logger } from "../logger.ts";
import type { RuleProblem } from "./rule-problems.ts";
import type { ReloadOutcome, RulesetReloader } from "./ruleset-reloader.ts";
import type { RulesetVersion } from "./ruleset-version.ts";

export interface InstanceReport {
  id: string;
  version: RulesetVersion | null;
  /** rule problems, or RELOAD_TIMEOUT for an instance that did not answer */
  errors: Array<Pick<RuleProblem, "file" | "line" | "pointer" | "message"> & { code: string }>;
  /** TEMPLATE_XML_DISPUTED warnings: accepted, worth a look */
  warnings?: Array<Pick<RuleProblem, "file" | "line" | "pointer" | "message"> & { code: string }>;
  durationMs?: number;
}

export interface InstanceInfo {
  id: string;
  role: string;
  version: RulesetVersion | null;
  startedAt: string;
  seenAt: string;
}

export interface FleetReload {
  readonly instanceId: string;
  start(): Promise<void>;
  /** reload every instance; resolves with each instance's report, this one first */
  reloadAll(): Promise<InstanceReport[]>;
  instances(): Promise<InstanceInfo[]>;
  close(): Promise<void>;
}

export interface FleetOptions {
  command: Redis;
  subscriber: Redis;
  prefix: string;
  role: string;
  reloader: RulesetReloader;
  currentVersion(): RulesetVersion | undefined;
  log: Logger;
  /** how long to wait for every instance's reply */
  replyTimeoutMs?: number;
  heartbeatMs?: number;
}

const report = (id: string, outcome: ReloadOutcome): InstanceReport => ({
  id,
  version: outcome.version ?? null,
  errors: outcome.errors.map(({ file, line, pointer, code, message }) => ({
    file,
    line,
    pointer,
    code,
    message,
  })),
  warnings: outcome.warnings.map(({ file, line, pointer, code, message }) => ({
    file,
    line,
    pointer,
    code,
    message,
  })),
  durationMs: outcome.durationMs,
});

export function createFleetReload(options: FleetOptions): FleetReload {
  const { command, subscriber, prefix, log } = options;
  const instanceId = `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
  const channel = `${prefix}:reload`;
  const instancesKey = `${prefix}:instances`;
  const replyTimeoutMs = options.replyTimeoutMs ?? 10_000;
  const heartbeatMs = options.heartbeatMs ?? 10_000;
  const startedAt = new Date().toISOString();
  const waiting = new Map<string, (report: InstanceReport) => void>();
  let heartbeat: NodeJS.Timeout | undefined;

  const beat = async (): Promise<void> => {
    const info: InstanceInfo = {
      id: instanceId,
      role: options.role,
      version: options.currentVersion() ?? null,
      startedAt,
      seenAt: new Date().toISOString(),
    };
    await command.hset(instancesKey, instanceId, JSON.stringify(info));
  };
  // the command connection fails fast while Redis is away: a heartbeat then waits for the next one
  const beatQuietly = (): void => {
    if (command.status !== "ready") {
      log.debug({ status: command.status }, "heartbeat skipped: Redis is not connected");
      return;
    }
    beat().catch((error: unknown) => log.debug({ err: error }, "heartbeat failed"));
  };

  const onMessage = (from: string, message: string): void => {
    if (from === channel) {
      let request: { replyTo?: unknown };
      try {
        request = JSON.parse(message) as { replyTo?: unknown };
      } catch {
        return;
      }
      if (typeof request.replyTo !== "string") return;
      const replyTo = request.replyTo;
      void options.reloader
        .reload()
        .then((outcome) => {
          beatQuietly();
          return command.publish(replyTo, JSON.stringify(report(instanceId, outcome)));
        })
        .catch((error: unknown) => log.error({ err: error }, "could not answer a fleet reload"));
      return;
    }
    const deliver = waiting.get(from);
    if (deliver) {
      try {
        deliver(JSON.parse(message) as InstanceReport);
      } catch {
        log.warn({ channel: from }, "unreadable reload reply");
      }
    }
  };

  return {
    instanceId,
    async start() {
      subscriber.on("message", onMessage);
      await subscriber.subscribe(channel);
      // the instance is listed once Redis takes a heartbeat; a start never fails on one
      if (command.status === "ready")
        await beat().catch((error: unknown) => log.debug({ err: error }, "heartbeat failed"));
      heartbeat = setInterval(beatQuietly, heartbeatMs);
      heartbeat.unref();
    },
    async reloadAll() {
      const replyTo = `${channel}:reply:${randomBytes(8).toString("hex")}`;
      const reports: InstanceReport[] = [];
      let expected = Number.POSITIVE_INFINITY;
      let settle: () => void = () => {};
      const done = new Promise<void>((resolve) => (settle = resolve));
      waiting.set(replyTo, (reply) => {
        reports.push(reply);
        if (reports.length >= expected) settle();
      });
      await subscriber.subscribe(replyTo);
      try {
        expected = await command.publish(channel, JSON.stringify({ replyTo, from: instanceId }));
        if (reports.length >= expected) settle();
        const timer = setTimeout(settle, replyTimeoutMs);
        await done;
        clearTimeout(timer);
      } finally {
        waiting.delete(replyTo);
        await subscriber.unsubscribe(replyTo).catch(() => undefined);
      }
      const missing = Number.isFinite(expected) ? expected - reports.length : 0;
      const sorted = reports.sort((a, b) =>
        a.id === instanceId ? -1 : b.id === instanceId ? 1 : a.id.localeCompare(b.id),
      );
      for (let i = 0; i < missing; i += 1) {
        sorted.push({
          id: `unanswered-${i + 1}`,
          version: null,
          errors: [
            {
              file: "",
              line: 0,
              pointer: "",
              code: "RELOAD_TIMEOUT",
              message: `an instance did not report within ${replyTimeoutMs} ms`,
            },
          ],
        });
      }
      return sorted;
    },
    async instances() {
      const all = await command.hgetall(instancesKey);
      const cutoff = Date.now() - 3 * heartbeatMs;
      const live: InstanceInfo[] = [];
      const stale: string[] = [];
      for (const [id, text] of Object.entries(all)) {
        const info = JSON.parse(text) as InstanceInfo;
        if (Date.parse(info.seenAt) < cutoff) stale.push(id);
        else live.push(info);
      }
      if (stale.length > 0) await command.hdel(instancesKey, ...stale);
      return live.sort((a, b) => a.id.localeCompare(b.id));
    },
    async close() {
      if (heartbeat) clearInterval(heartbeat);
      subscriber.off("message", onMessage);
      // both connections wait (subscriber) or fail (command) while Redis is away: a stop must not hang
      if (subscriber.status === "ready") await subscriber.unsubscribe(channel).catch(() => undefined);
      if (command.status === "ready") await command.hdel(instancesKey, instanceId).catch(() => undefined);
    },
  };
}
