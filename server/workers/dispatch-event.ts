/**
 * The event job's one write: the decision into the trace and the action jobs into the actions queue, in a
 * single atomic script call (dispatch-event.lua) instead of a read, two trace writes and a bulk add.
 * Atomic, so a retried event job either finds everything dispatched or nothing.
 */
import { readFileSync } from "node:fs";
import type Bull from "bull";
import { bullAddJobFor } from "../queue/bull-add-job.ts";
import type { ActionQueue } from "../queue/queues.ts";
import type { ActionJobData, EventJobData } from "../queue/job-types.ts";
import { traceKeys } from "../events/trace-keys.ts";

const DISPATCH_SCRIPT = readFileSync(new URL("./dispatch-event.lua", import.meta.url), "utf8");

export interface ActionJobToAdd {
  id: string;
  /**
   * The job data as JSON less its `event` (`{"rule":…}`): the same for every event an action runs for, so
   * it is made once per action; the event's JSON is spliced in front of it (actionJobJson).
   */
  rest: string;
  /** the job data as an object (for a job this process runs at once) */
  value: ActionJobData;
  options: Bull.JobOptions;
}

/** An action job's data JSON: the event's JSON spliced into the rest (the claim script does the same in Lua). */
export const actionJobJson = (eventJson: string, rest: string): string =>
  `{"event":${eventJson},${rest.slice(1)}`;

/** true when dispatched now; false when an earlier attempt already recorded the decision and its jobs */
export type DispatchEvent = (
  event: EventJobData,
  traceFields: Record<string, string>,
  jobs: readonly ActionJobToAdd[],
) => Promise<boolean>;

export function createDispatch(actions: ActionQueue, prefix: string): DispatchEvent {
  const bull = bullAddJobFor(actions);
  const keys = traceKeys(prefix);
  const client = actions.client;
  client.defineCommand("switchboardDispatchEvent", {
    numberOfKeys: 7,
    lua: DISPATCH_SCRIPT.replace("-- @bull-add-job", bull.lua),
  });
  const script = (client as unknown as Record<string, (...args: Array<string | number>) => Promise<number>>)
    .switchboardDispatchEvent;
  if (script === undefined) throw new Error("the dispatch script is not defined");
  return async (event, traceFields, jobs) => {
    const now = Date.now();
    const args: Array<string | number> = [keys.trace(event.id), ...bull.keys, now];
    const names = Object.keys(traceFields);
    args.push(names.length);
    for (const name of names) args.push(name, traceFields[name] ?? "");
    const eventJson = JSON.stringify(event);
    for (const job of jobs)
      args.push(job.id, actionJobJson(eventJson, job.rest), bull.optsWith(job.options, job.id, now));
    return (await script.apply(client, args)) === 1;
  };
}
