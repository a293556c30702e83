/**
 * What the dashboard's page shows at a glance, read from Redis: the loaded ruleset version, the fleet's
 * instances (their heartbeats, rules/fleet-reload.ts), events per minute, failing destinations and the
 * newest dead letters. Recent events, traces and the playground are read by the page's script from the
 * admin API itself.
 */
import type { Redis } from "ioredis";
import type { DeadLetter, DeadLetters } from "../actions/dead-letters.ts";
import type { InstanceInfo } from "../rules/fleet-reload.ts";
import type { RulesetVersion } from "../rules/ruleset-version.ts";
import { destinationHealth, type DestinationHealth } from "./destination-health.ts";
import { eventsPerMinute, type EventsPerMinute } from "./events-per-minute.ts";

export interface OverviewDeps {
  redis: Redis;
  prefix: string;
  version: () => RulesetVersion | undefined;
  instanceId: string;
  instances: () => Promise<InstanceInfo[]>;
  deadLetters: Pick<DeadLetters, "list" | "count">;
}

/** an instance whose heartbeat (every 10 s) is older than this is shown as gone quiet */
export const INSTANCE_STALE_MS = 35_000;

export interface Overview {
  version: RulesetVersion | null;
  instanceId: string;
  instances: Array<InstanceInfo & { stale: boolean; self: boolean }>;
  perMinute: EventsPerMinute;
  destinations: DestinationHealth[];
  deadLetters: { items: DeadLetter[]; total: number };
  now: string;
}

export async function readOverview(deps: OverviewDeps, now = Date.now()): Promise<Overview> {
  const [instances, perMinute, destinations, letters, total] = await Promise.all([
    deps.instances().catch(() => []),
    eventsPerMinute(deps.redis, deps.prefix, { now }),
    destinationHealth(deps.redis, deps.prefix, deps.deadLetters, now),
    deps.deadLetters.list({ limit: 20 }),
    deps.deadLetters.count(),
  ]);
  return {
    version: deps.version() ?? null,
    instanceId: deps.instanceId,
    instances: instances
      .map((instance) => ({
        ...instance,
        stale: now - Date.parse(instance.seenAt) > INSTANCE_STALE_MS,
        self: instance.id === deps.instanceId,
      }))
      .sort((a, b) => Number(a.stale) - Number(b.stale) || a.id.localeCompare(b.id)),
    perMinute,
    destinations,
    deadLetters: { items: letters.items, total },
    now: new Date(now).toISOString(),
  };
}
