/**
 * The event names a rule's `on` may use (SPEC §3, reference §3.5): Vobiz's voice callback events, the two
 * types Switchboard gives requests without an `Event` (`Gather`, `Request`), the aliases, and `*`.
 * Anything else is almost always a typo (`Hangups`), so it is refused at load with the nearest known
 * name, unless the rule file declares it under `custom_events`. The rule-file schema offers the same
 * names as examples (test/unit/events/event-names.test.ts keeps them in sync). Pure.
 */
import { EVENT_ALIASES } from "./event-type.ts";

export const VOBIZ_EVENT_TYPES = [
  "StartApp",
  "Hangup",
  "CallInitiated",
  "Ring",
  "Record",
  "RecordStop",
  "DialAnswer",
  "DialConnected",
  "DialHangup",
  "DialAction",
  "DialDigitsMatch",
  "ConferenceEnter",
  "ConferenceExit",
  "ConferenceRemoteSounds",
  "ConferenceDigitsMatch",
  "StartStream",
  "PlayedStream",
  "ClearedAudio",
  "DegradedStream",
  "DroppedStream",
  "StopStream",
  "MachineDetection",
  "Redirect",
  "Transfer",
  "Gather",
  "Request",
] as const;

/** Every name `on` accepts without a declaration, in the order editors offer them. */
export const KNOWN_EVENT_NAMES: readonly string[] = [
  ...VOBIZ_EVENT_TYPES,
  ...Object.keys(EVENT_ALIASES),
  "*",
];

const known = new Set(KNOWN_EVENT_NAMES.map((name) => name.toLowerCase()));

export function isKnownEventName(name: string, declared: readonly string[] = []): boolean {
  const key = name.toLowerCase();
  return known.has(key) || declared.some((custom) => custom.toLowerCase() === key);
}
