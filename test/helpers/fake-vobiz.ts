import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { after } from "node:test";

export const FAKE_AUTH_ID = "MA_TESTACCOUNT";

export interface FakeRequest {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  body: unknown;
  /** what the fake answered: a status, "hang" or "drop" */
  answered: number | "hang" | "drop";
}

/** A scripted answer for the next matching request, instead of the checked one. */
export type Fault = { status: number; retryAfter?: string; body?: unknown } | "hang" | "drop";

export interface FakeVobiz {
  url: string;
  port: number;
  requests: FakeRequest[];
  /** the next requests whose `METHOD path` matches answer these, in order (then the checked answer) */
  script(match: RegExp, faults: Fault[]): void;
  /** calls that have ended: a hangup of them answers 404 */
  ended: Set<string>;
  /** stops listening (connections are refused) until `reopen()` */
  close(): Promise<void>;
  /** listens again on the same port */
  reopen(): Promise<void>;
  /** resolves once `count` requests matching `match` arrived (polls; bounded by `timeoutMs`) */
  waitFor(match: RegExp, count?: number, timeoutMs?: number): Promise<FakeRequest[]>;
}

type Fields = Record<string, { required?: boolean; enum?: string[]; pattern?: RegExp; type?: string }>;

const LEGS = ["aleg", "bleg", "both"];
const METHODS = ["GET", "POST"];
const URL_RE = /^https?:\/\//;

/** The request bodies as reference/vobiz-platform.md §4.2 gives them; any other field is refused. */
const CALL_BODY: Fields = {
  from: { required: true }, to: { required: true }, answer_url: { required: true, pattern: URL_RE },
  answer_method: { required: true, enum: METHODS }, ring_url: { pattern: URL_RE }, ring_method: { enum: METHODS },
  hangup_url: { pattern: URL_RE }, hangup_method: { enum: METHODS }, fallback_url: { pattern: URL_RE },
  fallback_method: { enum: METHODS }, caller_name: {}, send_digits: { pattern: /^[0-9*#wW]+$/ },
  send_on_preanswer: { type: "boolean" }, time_limit: { type: "number" }, hangup_on_ring: { type: "number" },
  ring_timeout: { type: "number" }, machine_detection: { enum: ["true", "hangup"] },
  machine_detection_time: { type: "number" }, machine_detection_url: { pattern: URL_RE },
  machine_detection_method: { enum: METHODS },
}; // prettier-ignore

const BODIES: Record<string, Fields> = {
  "POST Call": CALL_BODY,
  "POST Call/x": {
    legs: { enum: LEGS }, aleg_url: { pattern: URL_RE }, aleg_method: { enum: METHODS },
    bleg_url: { pattern: URL_RE }, bleg_method: { enum: METHODS },
  }, // prettier-ignore
  "POST Speak": {
    text: { required: true }, voice: { enum: ["WOMAN", "MAN", "Polly"] }, language: {},
    legs: { enum: LEGS }, loop: { type: "boolean" }, mix: { type: "boolean" },
  }, // prettier-ignore
  "POST Play": {
    urls: { required: true }, length: { type: "number" }, legs: { enum: LEGS }, loop: { type: "boolean" },
    mix: { type: "boolean" },
  }, // prettier-ignore
  "POST DTMF": { digits: { required: true, pattern: /^[0-9*#wW]+$/ }, leg: { enum: LEGS } },
  "POST Record": {
    time_limit: { type: "number" }, file_format: { enum: ["mp3", "wav"] }, transcription_type: { enum: ["auto"] },
    transcription_url: { pattern: URL_RE }, callback_url: { pattern: URL_RE }, callback_method: { enum: METHODS },
    record_channel_type: { enum: ["mono", "stereo"] },
  }, // prettier-ignore
  "POST messages": {
    channel_id: { required: true }, waba_id: {}, to: { required: true, pattern: /^\+[1-9][0-9]{6,14}$/ },
    type: { required: true, enum: ["text", "template", "image", "audio", "video", "document", "sticker"] },
    text: { type: "object" }, media: { type: "object" }, template: { type: "object" },
  }, // prettier-ignore
};

const SUCCESS: Record<string, [number, Record<string, unknown> | undefined]> = {
  "POST Call/x": [202, { message: "call transferred" }],
  "DELETE Call/x": [204, undefined],
  "POST Speak": [202, { message: "speak started" }],
  "DELETE Speak": [204, undefined],
  "POST Play": [202, { message: "play started" }],
  "DELETE Play": [204, undefined],
  "POST DTMF": [202, { message: "digits sent" }],
  "POST Record": [200, { message: "recording started", recording_id: "rec-1", url: "https://x/rec-1.mp3" }],
  "DELETE Record": [204, undefined],
  "POST messages": [201, { status: "pending" }],
};

function check(fields: Fields, body: unknown): string | undefined {
  if (body === null || typeof body !== "object" || Array.isArray(body))
    return "the body must be a JSON object";
  const record = body as Record<string, unknown>;
  for (const [name, value] of Object.entries(record)) {
    const rule = fields[name];
    if (rule === undefined) return `unknown field "${name}"`;
    const type = rule.type ?? "string";
    if (typeof value !== type) return `"${name}" must be a ${type}`;
    if (rule.enum !== undefined && !rule.enum.includes(String(value))) return `"${name}" is not allowed`;
    if (rule.pattern !== undefined && !rule.pattern.test(String(value))) return `"${name}" is malformed`;
  }
  for (const [name, rule] of Object.entries(fields))
    if (rule.required && record[name] === undefined) return `"${name}" is required`;
  return undefined;
}

/**
 * A strict local stand-in for the Vobiz REST API (reference/vobiz-platform.md §4): `X-Auth-ID` /
 * `X-Auth-Token` (401 otherwise, and for HTTP Basic), PascalCase paths with a trailing slash (401 for a
 * lower-case path or a missing slash, as Vobiz's gotchas page says), JSON bodies (415 otherwise) with the
 * documented fields only (400 for a missing, unknown or badly valued one), DELETEs without a body. It can
 * be scripted to answer 429 / 5xx, to hang, or to drop the connection.
 */
export async function startFakeVobiz(token: string): Promise<FakeVobiz> {
  const requests: FakeRequest[] = [];
  const scripts: Array<{ match: RegExp; faults: Fault[] }> = [];
  const ended = new Set<string>();
  const sockets = new Set<Socket>();
  let calls = 0;

  const handle = (req: IncomingMessage, res: ServerResponse, text: string): void => {
    const method = req.method ?? "";
    const path = req.url ?? "";
    let body: unknown;
    const entry: FakeRequest = { method, path, headers: req.headers, body: undefined, answered: 0 };
    requests.push(entry);
    const reply = (status: number, payload?: unknown, headers: Record<string, string> = {}): void => {
      entry.answered = status;
      if (payload === undefined) {
        res.writeHead(status, headers);
        res.end();
        return;
      }
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(JSON.stringify(payload));
    };
    try {
      body = text === "" ? undefined : JSON.parse(text);
    } catch {
      return reply(400, { error: "the body is not JSON" });
    }
    entry.body = body;
    const script = scripts.find((s) => s.match.test(`${method} ${path}`) && s.faults.length > 0);
    const fault = script?.faults.shift();
    if (fault === "hang") {
      entry.answered = "hang";
      return; // never answers; the socket is destroyed when the fake closes
    }
    if (fault === "drop") {
      entry.answered = "drop";
      req.socket.destroy();
      return;
    }
    if (fault !== undefined)
      return reply(
        fault.status,
        fault.body ?? { error: `scripted ${fault.status}` },
        fault.retryAfter === undefined ? {} : { "retry-after": fault.retryAfter },
      );

    if (req.headers.authorization !== undefined)
      return reply(401, { error: "HTTP Basic / Bearer is not accepted: send X-Auth-ID and X-Auth-Token" });
    if (req.headers["x-auth-id"] !== FAKE_AUTH_ID || req.headers["x-auth-token"] !== token)
      return reply(401, { error: "authentication failed: send X-Auth-ID and X-Auth-Token" });
    const account = `/api/v1/Account/${FAKE_AUTH_ID}/`;
    let kind: string | undefined;
    let call: string | undefined;
    if (path === "/api/v1/messaging/messages") kind = "messages";
    else if (path.startsWith(account)) {
      const match = /^Call\/(?:([^/]+)\/(?:(Speak|Play|DTMF|Record)\/)?)?$/.exec(path.slice(account.length));
      if (match) {
        call = match[1] === undefined ? undefined : decodeURIComponent(match[1]);
        kind = match[2] ?? (call === undefined ? "Call" : "Call/x");
      }
    }
    if (kind === undefined)
      return reply(401, { error: "unknown path (paths are PascalCase with a trailing slash)" });
    const key = `${method} ${kind}`;
    if (method === "DELETE") {
      if (text !== "") return reply(400, { error: "DELETE takes no body" });
      if (SUCCESS[key] === undefined) return reply(405, { error: "method not allowed" });
      if (kind === "Call/x" && call !== undefined && ended.has(call))
        return reply(404, { error: "call not found or already ended" });
      const [status, payload] = SUCCESS[key];
      return reply(status, payload && { api_id: `api-${requests.length}`, ...payload });
    }
    if (method !== "POST" || BODIES[key] === undefined) return reply(405, { error: "method not allowed" });
    if (!req.headers["content-type"]?.startsWith("application/json"))
      return reply(415, { error: "send JSON" });
    const problem = check(BODIES[key], body);
    if (problem !== undefined) return reply(400, { error: problem });
    if (kind === "Call/x") {
      const transfer = body as Record<string, unknown>;
      if (transfer.aleg_url === undefined && transfer.bleg_url === undefined)
        return reply(400, { error: "aleg_url or bleg_url is required" });
    }
    if (kind === "Call") {
      calls += 1;
      return reply(200, { api_id: `api-${calls}`, message: "Call fired", request_uuid: `uuid-${calls}` });
    }
    const [status, payload] = SUCCESS[key] ?? [200, {}];
    return reply(status, { api_id: `api-${requests.length}`, ...payload });
  };

  const server: Server = createServer((req, res) => {
    let text = "";
    req.on("data", (chunk: Buffer) => (text += chunk.toString()));
    req.on("end", () => handle(req, res, text));
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  let port = 0;
  const listen = (): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        port = (server.address() as AddressInfo).port;
        resolve();
      });
    });
  const close = (): Promise<void> =>
    new Promise<void>((resolve) => {
      if (!server.listening) return resolve();
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  await listen();
  after(close);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    ended,
    script: (match, faults) => scripts.push({ match, faults: [...faults] }),
    close,
    reopen: listen,
    async waitFor(match, count = 1, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = requests.filter((r) => match.test(`${r.method} ${r.path}`));
        if (found.length >= count) return found;
        if (Date.now() > deadline)
          throw new Error(
            `the fake Vobiz got ${found.length} of ${count} requests matching ${match}: ${JSON.stringify(requests.map((r) => `${r.method} ${r.path} ${String(r.answered)}`))}`,
          );
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
  };
}
