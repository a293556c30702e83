/**
 * What Vobiz XML allows (reference/vobiz-platform.md §2.2, §2.3): each element's allowed parents and
 * attributes, and the Plivo names that look right but Vobiz ignores, with what to write instead.
 */
export interface ElementRule {
  parents: readonly string[];
  attributes: readonly string[];
  /** whether it may hold text (a URL, a number, words) */
  text: boolean;
}

const URL_ATTRS = ["callbackUrl", "callbackMethod"] as const;

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
  },
  Dial: {
    parents: ["Response"],
    attributes: [
      "action", "method", ...URL_ATTRS, "redirect", "callerId", "callerName", "timeout", "timeLimit", "hangupOnStar",
      "dialMusic", "confirmSound", "confirmKey", "confirmTimeout", "digitsMatch", "digitsMatchBLeg", "sipHeaders",
    ],
    text: true,
  },
  Number: { parents: ["Dial"], attributes: ["sendDigits", "sendOnPreanswer"], text: true },
  User: { parents: ["Dial"], attributes: ["sendDigits", "sendOnPreanswer", "sipHeaders"], text: true },
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
      "muted", "beep", "startConferenceOnEnter", "endConferenceOnExit", "maxParticipants", "stayAlone", "enterSound",
      "exitSound", "relayDTMF", "digitsMatch", "hangupOnStar", "waitSound", "waitMethod", ...URL_ATTRS, "record",
      "recordFileFormat", "timeLimit", "action", "method",
    ],
    text: true,
  },
  DTMF: { parents: ["Response"], attributes: ["async"], text: true },
  Redirect: { parents: ["Response"], attributes: ["method"], text: true },
  Hangup: { parents: ["Response"], attributes: ["reason", "schedule"], text: false },
  PreAnswer: { parents: ["Response"], attributes: [], text: false },
  Stream: {
    parents: ["Response"],
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
    timeout: 'Vobiz has no "timeout" on <Gather>; use executionTimeout (5-60 s)',
    type: 'use inputType ("dtmf", "speech" or "dtmf speech")',
    numdigits: "attribute names are case-sensitive: write numDigits",
    input: 'use inputType ("dtmf", "speech" or "dtmf speech")',
  },
  Dial: { callerID: "write callerId", record: "use a <Record> element" },
  Number: { callerId: "set callerId on <Dial>, not on <Number>" },
  Speak: { voice_id: "use voice (WOMAN or MAN)" },
};

export const MAX_REPLY_BYTES = 100 * 1024;
