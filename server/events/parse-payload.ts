/**
 * Turns a request body (or a GET query string) into the event payload, within the limits of SPEC §2.
 * Pure. Objects are built by JSON.parse, or with a `__proto__` name defined as an own property, so
 * `__proto__` and `constructor` stay plain data and can never reach a prototype.
 */
import { AppError } from "../errors.ts";

export const LIMITS = { bodyBytes: 64 * 1024, fields: 500, nameLength: 256, depth: 20 } as const;

export type Payload = Record<string, unknown>;
export type BodyKind = "form" | "json" | "none";

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Which parser a Content-Type asks for; refuses other types and non-UTF-8 charsets. */
export function bodyKind(contentType: string | undefined, hasBody: boolean): BodyKind {
  if (contentType === "application/x-www-form-urlencoded") return "form"; // what Vobiz sends
  if (contentType === undefined || contentType.trim() === "") {
    if (!hasBody) return "none";
    throw new AppError("UNSUPPORTED_CONTENT_TYPE", "The body has no Content-Type; send form or JSON.");
  }
  const [type = "", ...params] = contentType
    .toLowerCase()
    .split(";")
    .map((part) => part.trim());
  const charset = params
    .find((param) => param.startsWith("charset="))
    ?.slice("charset=".length)
    .replace(/"/g, "");
  if (charset !== undefined && charset !== "utf-8" && charset !== "utf8") {
    throw new AppError("UNSUPPORTED_CONTENT_TYPE", `charset=${charset} is not supported; send UTF-8.`);
  }
  if (type === "application/x-www-form-urlencoded") return "form";
  if (type === "application/json" || /^application\/[a-z0-9.+-]+\+json$/.test(type)) return "json";
  throw new AppError(
    "UNSUPPORTED_CONTENT_TYPE",
    `Content-Type ${type} is not accepted; send application/x-www-form-urlencoded or application/json.`,
  );
}

function decodeUtf8(raw: Uint8Array): string {
  try {
    return utf8.decode(raw);
  } catch {
    throw new AppError("BODY_MALFORMED", "The body is not valid UTF-8.");
  }
}

/** Parses a body of the given kind. */
export function parseBody(kind: BodyKind, raw: Uint8Array): Payload {
  if (kind === "none") return {};
  return parseText(kind, decodeUtf8(raw));
}

function parseText(kind: BodyKind, text: string): Payload {
  if (kind === "none") return {};
  return kind === "form" ? parseForm(text) : parseJsonObject(text);
}

/**
 * The payload of a stored event, parsed again from its raw text (GET: the query string). It passed the same
 * parser when it was received, so this does not throw for a stored event.
 */
export const FORM_CONTENT_TYPE = "application/x-www-form-urlencoded";

/** A stored event's content type (left out when it is the form encoding Vobiz sends). */
export const contentTypeOf = (event: { contentType?: string | undefined }): string =>
  event.contentType ?? FORM_CONTENT_TYPE;

export function payloadOf(event: { raw: string; contentType?: string | undefined; method: string }): Payload {
  if (event.method === "GET") return parseForm(event.raw);
  return parseText(bodyKind(contentTypeOf(event), event.raw.length > 0), event.raw);
}

/**
 * application/x-www-form-urlencoded, strictly: every `%` starts a valid escape of UTF-8, every field has a
 * name. A repeated name becomes an array of its values, in order. Values stay strings, as Vobiz sends them.
 */
export function parseForm(text: string): Payload {
  // a plain object filled directly (no Map and fromEntries: this runs for every event); a `__proto__` name
  // is defined as an own property, so it stays data
  const fields: Record<string, string | string[]> = {};
  if (text === "") return fields;
  let count = 0;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf("&", start);
    if (end === -1) end = text.length;
    if (end > start) {
      count += 1;
      if (count > LIMITS.fields) throw new AppError("TOO_MANY_FIELDS");
      const equals = text.indexOf("=", start);
      const named = equals === -1 || equals > end;
      const name = decodeComponent(text.slice(start, named ? end : equals));
      const value = named ? "" : decodeComponent(text.slice(equals + 1, end));
      if (name === "")
        throw new AppError("BODY_MALFORMED", "A form field has no name (a part starts with '=').");
      if (name.length > LIMITS.nameLength) {
        throw new AppError(
          "FIELD_NAME_TOO_LONG",
          `The field name '${name.slice(0, 40)}…' is over 256 characters.`,
        );
      }
      const previous = Object.hasOwn(fields, name) ? fields[name] : undefined;
      setField(fields, name, previous === undefined ? value : [previous, value].flat());
    }
    start = end + 1;
  }
  return fields;
}

function setField(fields: Record<string, unknown>, name: string, value: unknown): void {
  if (name === "__proto__") {
    Object.defineProperty(fields, name, { value, enumerable: true, writable: true, configurable: true });
  } else {
    fields[name] = value;
  }
}

function decodeComponent(text: string): string {
  const plus = text.includes("+") ? text.replace(/\+/g, " ") : text;
  if (!plus.includes("%")) return plus;
  try {
    return decodeURIComponent(plus);
  } catch {
    throw new AppError("BODY_MALFORMED", "The form body has a '%' that is not a valid UTF-8 escape.");
  }
}

/** A JSON object within the depth, field-count and name-length limits. */
export function parseJsonObject(text: string): Payload {
  checkDepth(text);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new AppError("BODY_MALFORMED", `The JSON body does not parse: ${(error as Error).message}`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new AppError(
      "BODY_NOT_OBJECT",
      `A JSON body must be an object at the top level, not ${describe(value)}.`,
    );
  }
  let fields = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const current = stack.pop();
    if (current === null || typeof current !== "object") continue;
    if (Array.isArray(current)) {
      stack.push(...(current as unknown[]));
      continue;
    }
    for (const [name, child] of Object.entries(current)) {
      fields += 1;
      if (fields > LIMITS.fields) throw new AppError("TOO_MANY_FIELDS");
      if (name.length > LIMITS.nameLength) {
        throw new AppError(
          "FIELD_NAME_TOO_LONG",
          `The field name '${name.slice(0, 40)}…' is over 256 characters.`,
        );
      }
      stack.push(child);
    }
  }
  return value as Payload;
}

/** Refuses nesting deeper than the limit before JSON.parse sees it (a 64 KiB `[[[[…` would be 32k deep). */
function checkDepth(text: string): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i += 1; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      depth += 1;
      if (depth > LIMITS.depth) throw new AppError("BODY_TOO_DEEP");
    } else if (c === 0x7d || c === 0x5d) depth -= 1;
  }
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}
