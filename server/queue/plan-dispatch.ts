/**
 * A decision as the queue adds it: the action jobs' data, with the JSON of everything but the event made
 * once per action and ruleset version (the scripts splice the event's JSON in front of it), not per event.
 */
import {
  actionJobId,
  type ActionJobToAdd,
  type DecidedAction,
  type DispatchPlan,
  type EventJobData,
} from "./job-types.ts";

const restJson = new WeakMap<object, { ruleset: DecidedAction["ruleset"]; rule: string; json: string }>();

function jobRest(data: DecidedAction): string {
  const cached = restJson.get(data.action);
  if (cached !== undefined && cached.ruleset === data.ruleset && cached.rule === data.rule.id)
    return cached.json;
  const json = JSON.stringify(data);
  restJson.set(data.action, { ruleset: data.ruleset, rule: data.rule.id, json });
  return json;
}

/** The jobs of `actions` (decided without the event) for `event`. */
export function planDispatch(event: EventJobData, actions: readonly DecidedAction[]): DispatchPlan {
  return {
    jobs: actions.map((data): ActionJobToAdd => ({
      id: actionJobId(event.id, data.rule.id, data.actionIndex),
      rest: jobRest(data),
      value: Object.assign({ event }, data),
    })),
  };
}
