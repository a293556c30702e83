/**
 * The one object rules and templates see (SPEC §3): every payload field as received, computed fields where
 * the payload has no field of that name, and `meta`. Pure.
 */
import { resolveEventType } from "./event-type.ts";
import { mergeData } from "./merge-data.ts";
import type { Payload } from "./parse-payload.ts";
import { toE164 } from "./phone-number.ts";

export interface EventScope {
  account: string | null;
  app: string | null;
  trunk: string | null;
  call: string | null;
}

export interface EventMeta {
  id: string;
  type: string;
  receivedAt: string;
  route: "events" | "answer";
  path: string;
  query: Record<string, string | string[]>;
  scope: EventScope;
  public_url: string;
  ruleset?: unknown;
  /**
   * in rules: the event's run (1 as received, 2 for its first replay, …); in templates: the delivery
   * attempt of the current action (SPEC §3)
   */
  attempt?: number;
  /** a replay: the id of the event it replays */
  replayOf?: string;
}

export type EventContext = Record<string, unknown> & { meta: EventMeta };

export interface ContextInput {
  id: string;
  route: "events" | "answer";
  path: string;
  query: Record<string, string | string[]>;
  payload: Payload;
  receivedAt: string;
  replay?: { of: string; attempt: number } | undefined;
}

export interface ContextOptions {
  defaultCountry: string;
  publicUrl: string;
  /** VOBIZ_AUTH_ID: the account scope when the payload does not name one */
  accountId?: string | undefined;
}

/** Callback-profile names (Kaleyra) and their Vobiz sources. */
const PROFILE_NAMES: ReadonlyArray<readonly [string, string]> = [
  ["caller", "From"],
  ["callee", "To"],
  ["status", "CallStatus"],
  ["id", "CallUUID"],
  ["billsec", "BillDuration"],
  ["keypress", "Digits"],
  ["call_type", "Direction"],
];

const first = (value: string | string[] | undefined): string | null =>
  (Array.isArray(value) ? value[0] : value) ?? null;

/** The Switchboard call an event belongs to (`?call=`: a call placed through POST /api/calls), or null. */
export const callOf = (query: ContextInput["query"]): string | null => first(query.call);

export function scopeOf(input: ContextInput, accountId: string | undefined): EventScope {
  const parent = input.payload.ParentAuthID;
  return {
    account: first(input.query.account) ?? accountId ?? (typeof parent === "string" ? parent : null),
    app: first(input.query.app),
    trunk: first(input.query.trunk),
    call: callOf(input.query),
  };
}

export function buildContext(input: ContextInput, options: ContextOptions): EventContext {
  const { payload } = input;
  const computed: Record<string, unknown> = {};
  for (const [name, source] of PROFILE_NAMES) {
    if (!(name in payload) && source in payload) computed[name] = payload[source];
  }
  if (!("caller_e164" in payload)) computed.caller_e164 = toE164(payload.From, options.defaultCountry);
  if (!("callee_e164" in payload)) computed.callee_e164 = toE164(payload.To, options.defaultCountry);
  const meta: EventMeta = {
    id: input.id,
    type: resolveEventType(payload),
    receivedAt: input.receivedAt,
    route: input.route,
    path: input.path,
    query: input.query,
    scope: scopeOf(input, options.accountId),
    public_url: options.publicUrl,
    attempt: input.replay?.attempt ?? 1,
  };
  if (input.replay !== undefined) meta.replayOf = input.replay.of;
  return mergeData(payload, computed, { meta });
}
