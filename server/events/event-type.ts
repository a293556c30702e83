/**
 * Event types (SPEC §3): resolved from the payload, and matched against the names rules use, including the
 * aliases that rules written against the seed documents and Kaleyra callback profiles rely on.
 * Matching is case-insensitive everywhere. Pure.
 */
import type { Payload } from "./parse-payload.ts";

export function resolveEventType(payload: Payload): string {
  for (const name of ["Event", "event"]) {
    const value = payload[name];
    if (typeof value === "string" && value.trim() !== "") return value.trim();
  }
  if ("Digits" in payload || "Speech" in payload || "InputType" in payload) return "Gather";
  // a hangup_url request as the Vobiz "Applications" page shows it carries no Event, but a HangupCause
  if ("HangupCause" in payload) return "Hangup";
  return "Request";
}

interface Alias {
  /** concrete event types the alias can match (lower case), used to index rules */
  types: readonly string[];
  /** an extra condition on the payload */
  test?: (payload: Payload) => boolean;
}

const isTrue = (value: unknown): boolean => typeof value === "string" && value.toLowerCase() === "true";
const FAILED_STATUSES = new Set(["busy", "no-answer", "failed", "timeout", "cancel"]);

export const EVENT_ALIASES: Readonly<Record<string, Alias>> = {
  "recording.completed": { types: ["recordstop"] },
  "conference.started": { types: ["conferenceenter"], test: (p) => isTrue(p.ConferenceFirstMember) },
  "conference.ended": { types: ["conferenceexit"], test: (p) => isTrue(p.ConferenceLastMember) },
  call_start: { types: ["callinitiated", "ring"] },
  from_call_start: { types: ["callinitiated", "ring"] },
  call_answer: { types: ["startapp"] },
  from_call_answer: { types: ["startapp"] },
  to_call_answer: { types: ["dialanswer"] },
  call_end: { types: ["hangup"] },
  "call.failed": {
    types: ["hangup"],
    test: (p) => typeof p.CallStatus === "string" && FAILED_STATUSES.has(p.CallStatus.toLowerCase()),
  },
};

/** The concrete (lower-case) event types a rule's `on` name can match; ["*"] for any. */
export function typesForName(name: string): readonly string[] {
  const key = name.toLowerCase();
  if (key === "*") return ["*"];
  return EVENT_ALIASES[key]?.types ?? [key];
}

/** Whether an event of `type` with `payload` matches the name a rule uses (a type, an alias or "*"). */
export function matchesEventName(name: string, type: string, payload: Payload): boolean {
  const key = name.toLowerCase();
  if (key === "*") return true;
  const alias = EVENT_ALIASES[key];
  if (alias === undefined) return key === type.toLowerCase();
  return alias.types.includes(type.toLowerCase()) && (alias.test === undefined || alias.test(payload));
}
