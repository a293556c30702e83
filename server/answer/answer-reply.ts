/**
 * Which events on /answer expect no XML (SPEC §5.2): they get `<Response/>`.
 */

/** Event types Vobiz sends to the answer URL that expect no XML (lower case). */
export const NO_XML_TYPES: ReadonlySet<string> = new Set(
  [
    "Hangup", "Ring", "CallInitiated", "RecordStop", "DialAnswer", "DialConnected", "DialHangup",
    "DialDigitsMatch", "ConferenceEnter", "ConferenceExit", "MachineDetection", "StartStream", "PlayedStream",
    "ClearedAudio", "DegradedStream", "DroppedStream", "StopStream",
  ].map((type) => type.toLowerCase()),
); // prettier-ignore

export const EMPTY_RESPONSE = '<?xml version="1.0" encoding="UTF-8"?>\n<Response/>\n';

export function expectsXml(type: string): boolean {
  return !NO_XML_TYPES.has(type.toLowerCase());
}
