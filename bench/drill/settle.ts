/** After a fault: wait until every acknowledged event is delivered and the queues are empty, then count. */
import type { Destination } from "./destination.ts";
import type { Instance } from "./instances.ts";
import type { Load } from "./load.ts";
import { note, until } from "./common.ts";

export interface Setup {
  scenario: string;
  dir: string;
  logDir: string;
  destination: Destination;
  rulesEnv: Record<string, string>;
}

export interface Result {
  scenario: string;
  fault: string;
  sent: number;
  requests: number;
  acknowledged: number;
  processed: number;
  lost: number;
  /** delivered although the sender never got a 200 (stored, the answer lost) */
  processedUnacknowledged: number;
  duplicatedSameKey: number;
  duplicatedOtherKey: number;
  deadLetters: number;
  seconds: number;
  notes: string[];
  lostIds: string[];
}

export async function queueIdle(web: Instance): Promise<{ idle: boolean; deadLetters: number }> {
  const text = await (await fetch(`${web.url}/metrics`)).text();
  let busy = 0;
  let deadLetters = 0;
  for (const line of text.split("\n")) {
    const depth =
      /^switchboard_queue_depth\{[^}]*state="(wait|waiting|active|delayed|paused)"[^}]*\} (\d+)/.exec(line);
    if (depth !== null) busy += Number(depth[2]);
    const dead = /^switchboard_dead_letters\S* (\d+)/.exec(line);
    if (dead !== null) deadLetters = Number(dead[1]);
  }
  return { idle: busy === 0, deadLetters };
}

/** Waits until every acknowledged event is delivered and the queues are empty, then counts. */
export async function settle(
  setup: Setup,
  fault: string,
  load: Load,
  web: () => Instance,
  started: number,
  timeoutMs: number,
  notes: string[],
): Promise<Result> {
  const { destination, scenario } = setup;
  note(
    scenario,
    `load stopped; waiting for every acknowledged event to be delivered (at most ${timeoutMs / 1000} s)`,
  );
  await load.stop();
  const acked = [...load.outcomes].filter(([, outcome]) => outcome.acknowledged).map(([call]) => call);
  let deadLetters = 0;
  try {
    await until(
      "every acknowledged event delivered and the queues empty",
      async () => {
        if (!acked.every((call) => destination.deliveries.has(call))) return undefined;
        const state = await queueIdle(web());
        deadLetters = state.deadLetters;
        return state.idle ? true : undefined;
      },
      timeoutMs,
    );
  } catch (error) {
    notes.push(String(error instanceof Error ? error.message : error));
    deadLetters = (await queueIdle(web()).catch(() => ({ deadLetters: -1 }))).deadLetters;
  }
  const lostIds = acked.filter((call) => !destination.deliveries.has(call));
  let duplicatedSameKey = 0;
  let duplicatedOtherKey = 0;
  for (const keys of destination.deliveries.values()) {
    if (keys.length < 2) continue;
    if (new Set(keys).size === 1) duplicatedSameKey += 1;
    else duplicatedOtherKey += 1;
  }
  const outcomes = [...load.outcomes.values()];
  return {
    scenario,
    fault,
    sent: outcomes.length,
    requests: outcomes.reduce((sum, outcome) => sum + outcome.requests, 0),
    acknowledged: acked.length,
    processed: [...load.outcomes.keys()].filter((call) => destination.deliveries.has(call)).length,
    lost: lostIds.length,
    processedUnacknowledged: [...load.outcomes].filter(
      ([call, outcome]) => !outcome.acknowledged && destination.deliveries.has(call),
    ).length,
    duplicatedSameKey,
    duplicatedOtherKey,
    deadLetters,
    seconds: Math.round((Date.now() - started) / 1000),
    notes,
    lostIds,
  };
}

export function table(results: Result[]): string {
  const rows = results.map(
    (r) =>
      `| ${r.scenario} | ${r.sent} | ${r.requests} | ${r.acknowledged} | ${r.processed} | **${r.lost}** | ` +
      `${r.processedUnacknowledged} | ${r.duplicatedSameKey} | ${r.duplicatedOtherKey} | ${r.deadLetters} | ${r.seconds} s |`,
  );
  const faults = results.map(
    (r) =>
      `- **${r.scenario}**: ${r.fault}.${r.notes.map((n) => ` ${n}.`).join("")}` +
      (r.lost > 0 ? ` Lost: ${r.lostIds.slice(0, 10).join(", ")}.` : ""),
  );
  return [
    "| scenario | events sent | requests | acknowledged (200) | processed (delivered) | lost | delivered without a 200 | delivered twice, same Idempotency-Key | delivered twice, different keys | dead letters | duration |",
    "|---|---|---|---|---|---|---|---|---|---|---|",
    ...rows,
    "",
    ...faults,
  ].join("\n");
}
