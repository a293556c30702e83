/**
 * The eleven Vobiz REST actions a rule can take (SPEC §4.2 `vobiz`; reference/vobiz-platform.md §4.2):
 * for each, the request it becomes (method and path, PascalCase with a trailing slash), the JSON Schema
 * its `params` are checked against at load (and, rendered, again before sending), which params are URLs
 * handed to Vobiz (they carry the loop breaker's hop count when they point at Switchboard), and whether
 * the call defaults to the event's CallUUID. Pure data.
 */

export const VOBIZ_ACTIONS = [
  "make_call",
  "hangup",
  "transfer",
  "speak",
  "speak_stop",
  "play",
  "play_stop",
  "dtmf",
  "record_start",
  "record_stop",
  "whatsapp_message",
] as const;

export type VobizActionName = (typeof VOBIZ_ACTIONS)[number];

type Schema = Record<string, unknown>;

export interface VobizActionSpec {
  method: "POST" | "DELETE";
  /** the path under `/api/v1`; `{call}` is the call's UUID, `{auth}` the account id */
  path: string;
  /** the JSON Schema of `params` (draft 2020-12) */
  schema: Schema & { properties: Record<string, Schema>; required?: string[] };
  /** params that are URLs Vobiz will call back (hop count added when they point at Switchboard) */
  urls: readonly string[];
  /** the request names a live call: `call_uuid`, by default the event's CallUUID */
  call: boolean;
  /** `to` is a destination number (the per-number cap applies) */
  destination: boolean;
  /** a body is sent (POST); params that only shape the path are left out of it */
  body: boolean;
  /** one of these params must be given (beyond `required`) */
  oneOf?: readonly string[];
}

const CALL_UUID = {
  type: "string",
  minLength: 1,
  description: "the call's UUID (default: the event's CallUUID)",
};
const LEGS = { enum: ["aleg", "bleg", "both"], description: "aleg (default), bleg or both" };
const METHOD = { enum: ["GET", "POST"], description: "GET or POST" };
const URL = {
  type: "string",
  pattern: "^https?://",
  description: "an http(s) URL",
};
const BOOL = { type: "boolean", description: "true or false" };
const SECONDS = { type: "integer", minimum: 1, description: "a whole number of seconds" };
const EVENTS = {
  type: "array",
  items: { type: "string", minLength: 1 },
  description: 'event types or aliases, such as ["Hangup", "call.failed"]',
};

const object = (properties: Record<string, Schema>, required: string[] = []): VobizActionSpec["schema"] => ({
  type: "object",
  additionalProperties: false,
  properties,
  ...(required.length > 0 ? { required } : {}),
});

const onCall = (path: string, method: "POST" | "DELETE", properties: Record<string, Schema> = {}, required: string[] = []): VobizActionSpec => ({
  method,
  path: `/Account/{auth}/Call/{call}/${path}`,
  schema: object({ call_uuid: CALL_UUID, ...properties }, required),
  urls: [],
  call: true,
  destination: false,
  body: method === "POST",
}); // prettier-ignore

export const VOBIZ_CATALOGUE: Readonly<Record<VobizActionName, VobizActionSpec>> = {
  make_call: {
    method: "POST",
    path: "/Account/{auth}/Call/",
    schema: object(
      {
        from: { type: "string", minLength: 1, description: "the calling number, such as +918040001234" },
        to: { type: "string", minLength: 1, description: "the number (or SIP URI) to call" },
        flow: {
          type: "string",
          pattern: "^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$",
          description: 'a path below /answer, such as "sales" or "sales/callback"',
        },
        answer_url: URL,
        answer_method: METHOD,
        status_url: URL,
        status_method: METHOD,
        status_events: EVENTS,
        fallback_url: URL,
        fallback_method: METHOD,
        caller_name: { type: "string", maxLength: 50, description: "at most 50 characters" },
        send_digits: { type: "string", pattern: "^[0-9*#wW]+$", description: "digits 0-9, *, #, w or W" },
        send_on_preanswer: BOOL,
        time_limit: SECONDS,
        hangup_on_ring: SECONDS,
        ring_timeout: SECONDS,
        machine_detection: { enum: ["true", "hangup"], description: '"true" or "hangup"' },
        machine_detection_time: { type: "integer", minimum: 1, description: "milliseconds" },
        machine_detection_url: URL,
        machine_detection_method: METHOD,
      },
      ["from", "to"],
    ),
    urls: ["answer_url", "fallback_url", "machine_detection_url"],
    call: false,
    destination: true,
    body: true,
    oneOf: ["flow", "answer_url"],
  },
  hangup: onCall("", "DELETE"),
  transfer: {
    ...onCall("", "POST", {
      legs: LEGS,
      aleg_url: URL,
      aleg_method: METHOD,
      bleg_url: URL,
      bleg_method: METHOD,
    }),
    urls: ["aleg_url", "bleg_url"],
    oneOf: ["aleg_url", "bleg_url"],
  },
  speak: onCall(
    "Speak/",
    "POST",
    {
      text: { type: "string", minLength: 1, description: "the text to speak" },
      voice: { enum: ["WOMAN", "MAN", "Polly"], description: "WOMAN (default), MAN or Polly" },
      language: {
        type: "string",
        pattern: "^[a-z]{2,3}-[A-Z]{2}$",
        description: "a language such as en-US or hi-IN",
      },
      legs: LEGS,
      loop: BOOL,
      mix: BOOL,
    },
    ["text"],
  ),
  speak_stop: onCall("Speak/", "DELETE"),
  play: onCall(
    "Play/",
    "POST",
    {
      urls: { type: "string", minLength: 1, description: "one URL, or several separated by commas" },
      length: SECONDS,
      legs: LEGS,
      loop: BOOL,
      mix: BOOL,
    },
    ["urls"],
  ),
  play_stop: onCall("Play/", "DELETE"),
  dtmf: onCall(
    "DTMF/",
    "POST",
    {
      digits: { type: "string", pattern: "^[0-9*#wW]+$", description: "digits 0-9, *, #, w or W" },
      leg: { ...LEGS, description: "aleg (default), bleg or both (singular: leg)" },
    },
    ["digits"],
  ),
  record_start: {
    ...onCall("Record/", "POST", {
      time_limit: SECONDS,
      file_format: { enum: ["mp3", "wav"], description: "mp3 or wav" },
      transcription_type: { enum: ["auto"], description: "auto" },
      transcription_url: URL,
      callback_url: URL,
      callback_method: METHOD,
      record_channel_type: { enum: ["mono", "stereo"], description: "mono (default) or stereo" },
    }),
    urls: ["transcription_url", "callback_url"],
  },
  record_stop: onCall("Record/", "DELETE"),
  whatsapp_message: {
    method: "POST",
    path: "/messaging/messages",
    schema: object(
      {
        channel_id: { type: "string", minLength: 1, description: "the WhatsApp channel's UUID" },
        waba_id: { type: "string", minLength: 1, description: "the WhatsApp Business account id" },
        to: {
          type: "string",
          pattern: "^\\+[1-9][0-9]{6,14}$",
          description: "an E.164 number with + (use the e164 filter: <<caller | e164>>)",
        },
        type: {
          enum: ["text", "template", "image", "audio", "video", "document", "sticker"],
          description: "text, template, image, audio, video, document or sticker",
        },
        text: { type: "object", description: 'the text message, such as {"body": "…"}' },
        media: { type: "object", description: "the media message" },
        template: { type: "object", description: "the template message" },
      },
      ["channel_id", "to", "type"],
    ),
    urls: [],
    call: false,
    destination: true,
    body: true,
  },
};

export const isVobizAction = (name: string): name is VobizActionName =>
  (VOBIZ_ACTIONS as readonly string[]).includes(name);
