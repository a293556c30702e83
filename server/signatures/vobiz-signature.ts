/**
 * Vobiz callback signatures (SPEC §2.1, reference §1): V2 and V3 are base64(HMAC-SHA256(token, message))
 * over the URL Vobiz called (query and fragment removed) and a nonce; the -MA- variants use the parent
 * account's token with the same nonces. Pure: no I/O, no clock.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

export type SignatureScheme = "v3" | "ma-v3" | "v2" | "ma-v2";
/** V3 and MA-V3 share the V3 nonce; V2 and MA-V2 the V2 nonce. */
export type NonceFamily = "v3" | "v2";

const SCHEMES: ReadonlyArray<{ scheme: SignatureScheme; header: string; family: NonceFamily }> = [
  { scheme: "v3", header: "x-vobiz-signature-v3", family: "v3" },
  { scheme: "ma-v3", header: "x-vobiz-signature-ma-v3", family: "v3" },
  { scheme: "v2", header: "x-vobiz-signature-v2", family: "v2" },
  { scheme: "ma-v2", header: "x-vobiz-signature-ma-v2", family: "v2" },
];
const NONCE_HEADER: Record<NonceFamily, string> = {
  v3: "x-vobiz-signature-v3-nonce",
  v2: "x-vobiz-signature-v2-nonce",
};
const BASE64_SHA256 = /^[A-Za-z0-9+/]{43}=$/;

export interface SignatureTokens {
  current?: string | undefined;
  previous?: string | undefined;
  parent?: string | undefined;
}

export type SignatureFailure = "missing" | "nonce_missing" | "malformed" | "mismatch";

export type VerifyResult =
  | { ok: true; scheme: SignatureScheme; family: NonceFamily; nonce: string }
  | { ok: false; reason: SignatureFailure };

type Headers = Readonly<Record<string, string | string[] | undefined>>;

/**
 * The base URL Vobiz signed: PUBLIC_URL followed by the request path exactly as received, with the query
 * and fragment cut off. Never built from Host or X-Forwarded-* headers.
 */
export function signatureBaseUrl(publicUrl: string, rawPath: string): string {
  const cut = rawPath.search(/[?#]/);
  return publicUrl.replace(/\/+$/, "") + (cut === -1 ? rawPath : rawPath.slice(0, cut));
}

export function computeSignature(
  scheme: SignatureScheme,
  baseUrl: string,
  nonce: string,
  token: string,
): string {
  const separator = scheme === "v3" || scheme === "ma-v3" ? "." : "";
  return createHmac("sha256", token)
    .update(baseUrl + separator + nonce)
    .digest("base64");
}

/**
 * Signature headers for a request to `baseUrl`, as Vobiz sends them (V3 and V2 with their own nonces, and
 * the MA variants when a parent token is given). For tests, the CLI and the benchmarks.
 */
export function signRequest(
  baseUrl: string,
  token: string,
  options: { nonceV3?: string; nonceV2?: string; parentToken?: string; schemes?: SignatureScheme[] } = {},
): Record<string, string> {
  const nonces: Record<NonceFamily, string> = {
    v3: options.nonceV3 ?? randomNonce(),
    v2: options.nonceV2 ?? randomNonce(),
  };
  const wanted = options.schemes ?? (options.parentToken ? ["v3", "ma-v3", "v2", "ma-v2"] : ["v3", "v2"]);
  const headers: Record<string, string> = {};
  for (const { scheme, header, family } of SCHEMES) {
    if (!wanted.includes(scheme)) continue;
    const key = scheme.startsWith("ma-") ? (options.parentToken ?? token) : token;
    headers[header] = computeSignature(scheme, baseUrl, nonces[family], key);
    headers[NONCE_HEADER[family]] = nonces[family];
  }
  return headers;
}

function randomNonce(): string {
  let nonce = "";
  for (let i = 0; i < 20; i += 1) nonce += Math.floor(Math.random() * 10).toString();
  return nonce;
}

/** The x-vobiz-signature* headers, names lower-cased, found in one pass (header names are case-insensitive). */
function signatureHeaders(headers: Headers): Map<string, string> {
  const found = new Map<string, string>();
  for (const name in headers) {
    if (name.length < 17) continue;
    const lower = name.toLowerCase();
    if (!lower.startsWith("x-vobiz-signature")) continue;
    const value = headers[name];
    const text = (Array.isArray(value) ? value[0] : value)?.trim();
    if (text !== undefined && text !== "") found.set(lower, text);
  }
  return found;
}

/**
 * The signatures in one header's value: one, or several separated by commas (as Plivo's scheme allows, and
 * as a header sent twice arrives), each decoded; pieces that are not base64 of 32 bytes are skipped.
 */
function decodeSignatures(value: string): Buffer[] {
  if (!value.includes(",")) return BASE64_SHA256.test(value) ? [Buffer.from(value, "base64")] : [];
  const decoded: Buffer[] = [];
  for (const piece of value.split(",")) {
    const text = piece.trim();
    if (BASE64_SHA256.test(text)) decoded.push(Buffer.from(text, "base64"));
  }
  return decoded;
}

function hmac(scheme: SignatureScheme, baseUrl: string, nonce: string, token: string): Buffer {
  const separator = scheme === "v3" || scheme === "ma-v3" ? "." : "";
  return createHmac("sha256", token)
    .update(baseUrl + separator + nonce)
    .digest();
}

/**
 * Authentic when at least one present signature verifies with one of the configured tokens (a header may
 * hold several, comma-separated: any one of them will do). Decoded bytes
 * are compared in constant time after a length check. The failure reason is for metrics and logs only;
 * replies must not reveal it.
 */
export function verifySignature(input: {
  baseUrl: string;
  headers: Headers;
  tokens: SignatureTokens;
}): VerifyResult {
  const tokens = [input.tokens.current, input.tokens.previous, input.tokens.parent].filter(
    (token): token is string => typeof token === "string" && token.length > 0,
  );
  const headers = signatureHeaders(input.headers);
  let present = 0;
  let reason: SignatureFailure = "missing";
  for (const { scheme, header: name, family } of SCHEMES) {
    const signature = headers.get(name);
    if (signature === undefined) continue;
    present += 1;
    const nonce = headers.get(NONCE_HEADER[family]);
    if (nonce === undefined) {
      if (reason === "missing") reason = "nonce_missing";
      continue;
    }
    const received = decodeSignatures(signature);
    if (received.length === 0) {
      if (reason === "missing" || reason === "nonce_missing") reason = "malformed";
      continue;
    }
    for (const token of tokens) {
      const expected = hmac(scheme, input.baseUrl, nonce, token);
      for (const candidate of received) {
        if (expected.length === candidate.length && timingSafeEqual(expected, candidate)) {
          return { ok: true, scheme, family, nonce };
        }
      }
    }
    reason = "mismatch";
  }
  return { ok: false, reason: present === 0 ? "missing" : reason };
}
