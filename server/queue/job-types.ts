import type { Action } from "../rules/rule-file-types.ts";
import type { RulesetVersion } from "../rules/ruleset-version.ts";

/** What an event job carries: everything a worker needs, so any worker on any machine can run it. */
export interface EventJobData {
  id: string;
  route: "events" | "answer";
  method: string;
  /** the request path, as received */
  path: string;
  query: Record<string, string | string[]>;
  /**
   * The body exactly as received (for GET, the query string); workers parse the payload from it again
   * with events/parse-payload.ts `payloadOf`, and form forwards send it byte for byte.
   */
  raw: string;
  /**
   * "" for GET (the raw text is a query string); absent for `application/x-www-form-urlencoded`, what Vobiz
   * sends (a trace keeps this for every event: leaving the usual value out keeps most traces a size class
   * smaller in Redis); read it with events/parse-payload.ts `contentTypeOf`
   */
  contentType?: string;
  receivedAt: string;
  verification: VerificationSummary;
  /** a replay (POST /admin/events/:id/replay): absent on an event as received */
  replay?: ReplayOf;
}

/** What a replayed event carries of its original. */
export interface ReplayOf {
  /** the replayed event's id */
  of: string;
  /** 1 for the original, 2 for its first replay, … */
  attempt: number;
  /** vobiz actions run again (they are real side effects): only when the replay asked */
  vobiz: boolean;
}

export interface VerificationSummary {
  /** "verified", or "skipped" under SIGNATURE_POLICY=off */
  result: "verified" | "skipped";
  scheme?: string;
}

export const QUEUE_NAMES = { events: "events", actions: "actions" } as const;

/**
 * One action of one matched rule (SPEC §4.2), run as its own job so a slow destination never delays
 * another. It carries the event and the action as decided (merged with its profile), so a retry runs
 * what was decided under the ruleset version it names, whatever has been reloaded since.
 */
export interface ActionJobData {
  event: EventJobData;
  rule: { id: string; description: string | undefined; file: string };
  actionIndex: number;
  action: Action;
  ruleset: RulesetVersion;
  /** times the job waited for an open circuit breaker (those runs are not attempts) */
  deferrals?: number;
  /** times it was retried from the dead letters */
  redrives?: number;
}

/** `evt_…:rule-id:0`: the same event, rule and action always get the same job id (and idempotency key). */
export const actionJobId = (eventId: string, ruleId: string, index: number): string =>
  `${eventId}:${ruleId}:${index}`;

/** An action job as a decision adds it (the event is added by the queue, from the claim or the event job). */
export type DecidedAction = Omit<ActionJobData, "event">;

/** A decision as the queue adds it: its action jobs (the decision itself is the trace's business). */
export interface DispatchPlan {
  jobs: ActionJobToAdd[];
}

export interface ActionJobToAdd {
  id: string;
  /**
   * The job data as JSON less its `event` (`{"rule":…}`): the same for every event an action runs for, so
   * it is made once per action and ruleset version; the event's JSON is spliced in front of it.
   */
  rest: string;
  /** the job data as an object (for a job this process runs at once) */
  value: ActionJobData;
}
