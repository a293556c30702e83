import assert from "node:assert/strict";
import { test } from "node:test";
import { isAppError, type ErrorCode } from "../../../server/errors.ts";
import {
  bodyKind,
  contentTypeOf,
  parseBody,
  parseForm,
  parseJsonObject,
  payloadOf,
} from "../../../server/events/parse-payload.ts";

function code(fn: () => unknown): ErrorCode | undefined {
  try {
    fn();
  } catch (error) {
    if (isAppError(error)) return error.code;
    throw error;
  }
  return undefined;
}

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

test("a real Vobiz form body keeps every value as the string it was", () => {
  const payload = parseForm(
    "BillRate=0&CallStatus=ringing&CallerName=%2B917983165036&CountryCode=&Event=StartApp&From=917983165036&STIRAttestation=Not+Applicable&SessionStart=2026-06-08+06%3A07%3A34.130248&To=07971442086",
  );
  assert.deepEqual(payload, {
    BillRate: "0",
    CallStatus: "ringing",
    CallerName: "+917983165036",
    CountryCode: "",
    Event: "StartApp",
    From: "917983165036",
    STIRAttestation: "Not Applicable",
    SessionStart: "2026-06-08 06:07:34.130248",
    To: "07971442086",
  });
});

test("repeated form fields become an array, in order", () => {
  assert.deepEqual(parseForm("a=1&b=2&a=3&a=4"), { a: ["1", "3", "4"], b: "2" });
});

test("empty parts, bare names, '+' and escapes", () => {
  assert.deepEqual(parseForm("&a&&b=&c=x+y%2B1&"), { a: "", b: "", c: "x y+1" });
  assert.deepEqual(parseForm("a=b=c"), { a: "b=c" });
});

test("a repeated __proto__ stays plain data too", () => {
  const form = parseForm("__proto__=x&__proto__=y");
  assert.equal(Object.getPrototypeOf(form), Object.prototype);
  assert.deepEqual(Object.getOwnPropertyDescriptor(form, "__proto__")?.value, ["x", "y"]);
});

test("__proto__ and constructor stay plain data", () => {
  const form = parseForm("__proto__=x&constructor=y&polluted=no");
  assert.equal(Object.getPrototypeOf(form), Object.prototype);
  assert.equal(Object.getOwnPropertyDescriptor(form, "__proto__")?.value, "x");
  assert.equal(form.constructor, "y");
  const json = parseJsonObject(
    '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}',
  );
  assert.equal(Object.getPrototypeOf(json), Object.prototype);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.deepEqual(Object.getOwnPropertyDescriptor(json, "__proto__")?.value, { polluted: true });
});

test("malformed form bodies are refused", () => {
  assert.equal(
    code(() => parseForm("a=%zz")),
    "BODY_MALFORMED",
  );
  assert.equal(
    code(() => parseForm("a=%E0%A4%A")),
    "BODY_MALFORMED",
  );
  assert.equal(
    code(() => parseForm("=value")),
    "BODY_MALFORMED",
  );
  assert.equal(
    code(() => parseBody("form", new Uint8Array([0x61, 0x3d, 0xff]))),
    "BODY_MALFORMED",
  );
});

test("field limits: 500 fields, 256-character names", () => {
  const fields = (n: number): string => Array.from({ length: n }, (_, i) => `f${i}=1`).join("&");
  assert.equal(Object.keys(parseForm(fields(500))).length, 500);
  assert.equal(
    code(() => parseForm(fields(501))),
    "TOO_MANY_FIELDS",
  );
  assert.equal(
    code(() => parseForm(`${"n".repeat(256)}=1`)),
    undefined,
  );
  assert.equal(
    code(() => parseForm(`${"n".repeat(257)}=1`)),
    "FIELD_NAME_TOO_LONG",
  );
  assert.equal(
    code(() => parseJsonObject(JSON.stringify({ ["k".repeat(257)]: 1 }))),
    "FIELD_NAME_TOO_LONG",
  );
  const wide = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`k${i}`, { a: 1 }]));
  assert.equal(
    code(() => parseJsonObject(JSON.stringify(wide))),
    "TOO_MANY_FIELDS",
    "nested fields count too",
  );
});

test("JSON must be an object, parse, and nest at most 20 deep", () => {
  assert.deepEqual(parseJsonObject('{"Event":"Hangup","Duration":125}'), { Event: "Hangup", Duration: 125 });
  assert.equal(
    code(() => parseJsonObject("[1,2]")),
    "BODY_NOT_OBJECT",
  );
  assert.equal(
    code(() => parseJsonObject("null")),
    "BODY_NOT_OBJECT",
  );
  assert.equal(
    code(() => parseJsonObject('"text"')),
    "BODY_NOT_OBJECT",
  );
  assert.equal(
    code(() => parseJsonObject("{bad json}")),
    "BODY_MALFORMED",
  );
  assert.equal(
    code(() => parseJsonObject("")),
    "BODY_MALFORMED",
  );
  const nest = (n: number): string => '{"a":'.repeat(n - 1) + "{}" + "}".repeat(n - 1);
  assert.equal(
    code(() => parseJsonObject(nest(20))),
    undefined,
  );
  assert.equal(
    code(() => parseJsonObject(nest(21))),
    "BODY_TOO_DEEP",
  );
  assert.equal(
    code(() => parseJsonObject("[".repeat(30000))),
    "BODY_TOO_DEEP",
  );
  assert.equal(
    code(() => parseJsonObject(`{"s":"${"[".repeat(50)}"}`)),
    undefined,
    "brackets inside strings do not count",
  );
});

test("content types: form, JSON (+json too), none for an empty body; others refused", () => {
  assert.equal(bodyKind("application/x-www-form-urlencoded", true), "form");
  assert.equal(bodyKind("application/x-www-form-urlencoded; charset=UTF-8", true), "form");
  assert.equal(bodyKind("Application/JSON", true), "json");
  assert.equal(bodyKind("application/vnd.vobiz+json", true), "json");
  assert.equal(bodyKind(undefined, false), "none");
  assert.equal(
    code(() => bodyKind(undefined, true)),
    "UNSUPPORTED_CONTENT_TYPE",
  );
  assert.equal(
    code(() => bodyKind("text/plain", true)),
    "UNSUPPORTED_CONTENT_TYPE",
  );
  assert.equal(
    code(() => bodyKind("multipart/form-data; boundary=x", true)),
    "UNSUPPORTED_CONTENT_TYPE",
  );
  assert.equal(
    code(() => bodyKind("application/json; charset=latin1", true)),
    "UNSUPPORTED_CONTENT_TYPE",
  );
  assert.deepEqual(parseBody("none", bytes("")), {});
});

test("a stored event's payload is parsed again from its raw text", () => {
  assert.deepEqual(
    payloadOf({ method: "POST", contentType: "application/x-www-form-urlencoded", raw: "a=1&b=%2B2" }),
    {
      a: "1",
      b: "+2",
    },
  );
  assert.deepEqual(payloadOf({ method: "GET", contentType: "", raw: "Digits=1" }), { Digits: "1" });
  assert.deepEqual(payloadOf({ method: "POST", contentType: "application/json", raw: '{"x":[1]}' }), {
    x: [1],
  });
  assert.deepEqual(payloadOf({ method: "POST", contentType: "", raw: "" }), {});
});

test("a stored event without a content type is the form encoding Vobiz sends; a given one is used", () => {
  const raw = "Event=Hangup&CallUUID=abc";
  assert.deepEqual(payloadOf({ method: "POST", raw }), { Event: "Hangup", CallUUID: "abc" });
  assert.equal(contentTypeOf({}), "application/x-www-form-urlencoded");
  assert.deepEqual(
    payloadOf({ method: "POST", raw: '{"Event":"Hangup"}', contentType: "application/json" }),
    {
      Event: "Hangup",
    },
  );
});
