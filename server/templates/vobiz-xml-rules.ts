/**
 * What Vobiz XML allows (reference/vobiz-platform.md §2.2, §2.3; Vobiz's docs, examples and the official
 * vobizxml builders): each element's allowed parents and attributes, and the Plivo names that look right
 * but Vobiz ignores, with what to write instead. Where Vobiz's own documents disagree about an attribute
 * or a nesting, it is listed under `disputed` with the reason and the documented alternative: accepted,
 * and warned about at load.
 */
export interface ElementRule {
  parents: readonly string[];
  attributes: readonly string[];
  /** whether it may hold text (a URL, a number, words) */
  text: boolean;
  /** attributes and parents some Vobiz documents use and others deny: accepted with a warning */
  disputed?: {
    attributes?: Readonly<Record<string, string>>;
    parents?: Readonly<Record<string, string>>;
  };
}

const URL_ATTRS = ["callbackUrl", "callbackMethod"] as const;
const CONFERENCE_SOUND =
  'Vobiz\'s <Conference> attribute table lists "enterSound" and "exitSound", but its Plivo comparison says they do not exist on Vobiz (they map to the single beep boolean); write beep="true" or beep="false"';

export const VOBIZ_ELEMENTS: Readonly<Record<string, ElementRule>> = {
  Response: { parents: [], attributes: [], text: false },
  Speak: { parents: ["Response", "Gather", "PreAnswer"], attributes: ["voice", "language", "loop"], text: true },
  Play: { parents: ["Response", "Gather", "PreAnswer"], attributes: ["loop"], text: true },
  Wait: { parents: ["Response", "PreAnswer"], attributes: ["length", "silence", "minSilence", "beep"], text: false },
  Gather: {
    parents: ["Response"],
    attributes: [
      "action", "method", "inputType", "executionTimeout", "digitEndTimeout", "speechEndTimeout", "finishOnKey",
      "numDigits", "speechModel", "hints", "language", "interimSpeechResultsCallback",
      "interimSpeechResultsCallbackMethod", "log", "redirect", "profanityFilter",
    ],
    text: false,
    disputed: {
      attributes: {
        timeout:
          'Vobiz\'s <Gather> attribute table has no "timeout" and its Plivo-migration gotchas say it is ignored, though its best-practices examples use it; write executionTimeout (5-60 s, default 15)',
        playBeep:
          'only Vobiz\'s SSML example puts "playBeep" on <Gather>; its <Gather> attribute table does not have it, so it may be ignored; to beep, put a <Play> of a beep sound first inside the <Gather>',
      },
    },
  },
  Dial: {
    parents: ["Response"],
    attributes: [
      "action", "method", ...URL_ATTRS, "redirect", "callerId", "callerName", "timeout", "timeLimit", "hangupOnStar",
      "dialMusic", "confirmSound", "confirmKey", "confirmTimeout", "digitsMatch", "digitsMatchBLeg", "sipHeaders",
    ],
    text: true,
  },
  Number: {
    parents: ["Dial"],
    attributes: ["sendDigits", "sendOnPreanswer"],
    text: true,
    disputed: {
      attributes: {
        timeout:
          'Vobiz\'s <Gather> page and Plivo-migration guide give <Number> a "timeout", but its <Number> page does not list one; set the ring timeout with timeout on <Dial>',
        sipHeaders:
          'Vobiz\'s PlivoXML comparison gives <Number> "sipHeaders", but its <Number> page does not list them; set sipHeaders on <Dial>',
      },
    },
  },
  User: { parents: ["Dial"], attributes: ["sendDigits", "sendOnPreanswer", "sipHeaders"], text: true },
  // the builders' Dial.addRecord puts <Record> inside <Dial>; the <Record> page's startOnDialAnswer text does too
  Record: {
    parents: ["Response", "Dial"],
    attributes: [
      "action", "method", "fileFormat", "redirect", "timeout", "maxLength", "playBeep", "finishOnKey", "recordSession",
      "startOnDialAnswer", "transcriptionType", "transcriptionUrl", "transcriptionMethod", ...URL_ATTRS,
    ],
    text: false,
  },
  Conference: {
    parents: ["Response"],
    attributes: [
      "muted", "beep", "startConferenceOnEnter", "endConferenceOnExit", "maxParticipants", "relayDTMF", "digitsMatch", "waitSound",
      ...URL_ATTRS, "record", "timeLimit", "action", "method",
    ],
    text: true,
    disputed: {
      attributes: {
        enterSound: CONFERENCE_SOUND,
        exitSound: CONFERENCE_SOUND,
        stayAlone:
          'Vobiz\'s comparison pages say its <Conference> has no "stayAlone", while its attribute table documents it (default false: a participant left alone is disconnected, so set it on every leg that may arrive first); keep it there, and check on a real call that a lone participant stays connected',
        hangupOnStar:
          'Vobiz\'s <Conference> attribute table lists "hangupOnStar", but its comparison pages say Vobiz\'s <Conference> has no such attribute, so * may do nothing; let callers leave by hanging up, or remove them with the conference member API (kick)',
        recordFileFormat:
          'Vobiz\'s <Conference> attribute table lists "recordFileFormat", but its Plivo comparison says the format is chosen through the recording API, and the attribute table says record="true" writes no file at all; record each leg with a self-closing <Record recordSession="true" fileFormat="wav"/> before <Conference>',
        waitMethod:
          'Vobiz\'s <Conference> attribute table says "waitMethod" is not implemented: waitSound is always fetched with POST; remove it',
      },
    },
  },
  DTMF: { parents: ["Response"], attributes: ["async"], text: true },
  Redirect: { parents: ["Response"], attributes: ["method"], text: true },
  Hangup: { parents: ["Response"], attributes: ["reason", "schedule"], text: false },
  PreAnswer: { parents: ["Response"], attributes: [], text: false },
  Stream: {
    parents: ["Response"],
    disputed: {
      parents: {
        Record:
          "Vobiz's examples of recording with a stream have put <Stream> inside <Record>, but its Stream-with-Record page says to make <Record/> self-closing and place <Stream> after it as a sibling; write the sibling form",
      },
    },
    attributes: [
      "bidirectional", "audioTrack", "streamTimeout", "statusCallbackUrl", "statusCallbackMethod", "contentType",
      "extraHeaders", "maxRetries", "keepCallAlive",
    ],
    text: true,
  },
}; // prettier-ignore

/** Elements from Plivo (or TwiML) that Vobiz does not have, and what to use. */
export const FOREIGN_ELEMENTS: Readonly<Record<string, string>> = {
  GetDigits: "use <Gather> (Vobiz's name for Plivo's GetDigits)",
  GetInput: "use <Gather inputType=\"speech\"> (Vobiz's name for Plivo's GetInput)",
  Say: "use <Speak>",
  MultiPartyCall: "Vobiz has no MultiPartyCall; use <Conference>",
  Pause: "use <Wait>",
  Reject: 'use <Hangup reason="rejected"/>',
  Enqueue: "Vobiz has no queues in XML; use <Conference>",
};

/** Attributes that Plivo (or TwiML) has and Vobiz ignores, per element, and what to write instead. */
export const FOREIGN_ATTRIBUTES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  Gather: {
    type: 'use inputType ("dtmf", "speech" or "dtmf speech")',
    numdigits: "attribute names are case-sensitive: write numDigits",
    input: 'use inputType ("dtmf", "speech" or "dtmf speech")',
  },
  Dial: { callerID: "write callerId", record: "use a <Record> element" },
  Number: { callerId: "set callerId on <Dial>, not on <Number>" },
  Speak: { voice_id: "use voice (WOMAN or MAN)" },
};

/**
 * SSML that `<Speak>` may hold (DOCS xml/speak/ssml; the builders' `{ ssml }` writes it unescaped): these
 * tags, nested in one another, with any attributes. Anything else inside `<Speak>` is refused.
 */
export const SSML_ELEMENTS: ReadonlySet<string> = new Set([
  "speak", "break", "emphasis", "lang", "mark", "p", "phoneme", "prosody", "s", "say-as", "sub", "w", "voice",
  "audio", "amazon:auto-breaths", "amazon:breath", "amazon:domain", "amazon:effect",
]); // prettier-ignore

/**
 * `sipHeaders` keys must end in "X-VH" (DOCS xml/request/sip-headers: otherwise the whole set is dropped),
 * though the <Dial> and <User> examples leave the suffix out.
 */
export function sipHeadersWarning(value: string): string | undefined {
  const keys = value
    .split(",")
    .map((pair) => pair.split("=")[0]?.trim() ?? "")
    .filter((key) => key !== "");
  const bare = keys.filter((key) => !key.endsWith("X-VH"));
  if (bare.length === 0) return undefined;
  return `Vobiz's SIP-headers page says every sipHeaders key must end in "X-VH" or the whole set is silently dropped (its <Dial> and <User> examples leave it out); write ${bare.map((key) => `${key}X-VH`).join(", ")}`;
}

export const MAX_REPLY_BYTES = 100 * 1024;
