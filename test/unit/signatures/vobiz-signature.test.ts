import assert from "node:assert/strict";
import { test } from "node:test";
import {
  computeSignature,
  signRequest,
  signatureBaseUrl,
  verifySignature,
} from "../../../server/signatures/vobiz-signature.ts";

const KEY = "my_auth_token";
const NONCE = "12345678901234567890";
const BASE = "https://example.com/vobiz/answer";

test("SPEC §2.1 test vectors", () => {
  assert.equal(
    computeSignature("v2", "https://answer.url", "12345", KEY),
    "ehV3IKhLysWBxC1sy8INm0qGoQYdYsHwuoKjsX7FsXc=",
  );
  assert.equal(
    computeSignature("v3", "https://answer.url", "12345", KEY),
    "2tUVd+6dOTo/13hSmD0yrftTKb57pVvy0kxqkPKxcqk=",
  );
  const base = signatureBaseUrl("https://example.com", "/vobiz/answer?tenant=42&x=1");
  assert.equal(base, BASE);
  assert.equal(computeSignature("v2", base, NONCE, KEY), "3L5vLu9K0EPQb/hw25qv1/dpe7xV+OqvjBB2CUFACuU=");
  assert.equal(computeSignature("v3", base, NONCE, KEY), "T4KPf+mmhqltELYKSiiErW3ER3nMg8LO6j36NrI2eMo=");
});

test("reference vectors: trailing slash and explicit port are signed as written", () => {
  const slash = "https://example.com/vobiz/answer/";
  assert.equal(computeSignature("v2", slash, NONCE, KEY), "AS9lGKRRLmfAnlz2gDR1fpM16tBQG5KTWu4UBE+bivs=");
  assert.equal(computeSignature("v3", slash, NONCE, KEY), "ji7BO29vWNYnAFz8AuGDVn+HA6Nuc2GGXAKi5iQWTLg=");
  const port = "https://example.com:8443/vobiz/answer";
  assert.equal(computeSignature("v3", port, NONCE, KEY), "caDOzJFivTeyfvPxBhr+7S8Zj+0EMO5zmrwLxQuJZ1w=");
});

test("the base URL is PUBLIC_URL plus the raw path; query and fragment removed, empty path kept empty", () => {
  assert.equal(signatureBaseUrl("https://answer.url", ""), "https://answer.url");
  assert.equal(signatureBaseUrl("https://sb.example.com/", "/events/x/"), "https://sb.example.com/events/x/");
  assert.equal(
    signatureBaseUrl("https://sb.example.com/prefix", "/events#frag"),
    "https://sb.example.com/prefix/events",
  );
  assert.equal(signatureBaseUrl("https://h", "/a%2Fb?q"), "https://h/a%2Fb");
});

function headersFor(scheme: "v3" | "v2", token = KEY, base = BASE, nonce = NONCE): Record<string, string> {
  return {
    [`x-vobiz-signature-${scheme}`]: computeSignature(scheme, base, nonce, token),
    [`x-vobiz-signature-${scheme}-nonce`]: nonce,
  };
}

test("V3 and V2 verify with the current token and report the scheme and nonce", () => {
  for (const scheme of ["v3", "v2"] as const) {
    const result = verifySignature({ baseUrl: BASE, headers: headersFor(scheme), tokens: { current: KEY } });
    assert.deepEqual(result, { ok: true, scheme, family: scheme, nonce: NONCE });
  }
});

test("the previous token is accepted during a rotation", () => {
  const result = verifySignature({
    baseUrl: BASE,
    headers: headersFor("v3", "old"),
    tokens: { current: KEY, previous: "old" },
  });
  assert.equal(result.ok, true);
});

test("MA headers verify with the parent token and reuse the V3/V2 nonces", () => {
  const headers = signRequest(BASE, "sub-token", { parentToken: "parent-token", nonceV3: "1", nonceV2: "2" });
  assert.equal(
    Object.keys(headers).filter((h) => h.endsWith("-nonce")).length,
    2,
    "no separate MA nonce header",
  );
  const onlyMa = {
    "x-vobiz-signature-ma-v3": headers["x-vobiz-signature-ma-v3"],
    "x-vobiz-signature-v3-nonce": "1",
  };
  const result = verifySignature({
    baseUrl: BASE,
    headers: onlyMa,
    tokens: { current: "unrelated", parent: "parent-token" },
  });
  assert.deepEqual(result, { ok: true, scheme: "ma-v3", family: "v3", nonce: "1" });
});

test("header names are case-insensitive", () => {
  const headers = {
    "X-Vobiz-Signature-V3": computeSignature("v3", BASE, NONCE, KEY),
    "X-VOBIZ-SIGNATURE-V3-NONCE": NONCE,
  };
  assert.equal(verifySignature({ baseUrl: BASE, headers, tokens: { current: KEY } }).ok, true);
});

test("refused: no signature headers", () => {
  assert.deepEqual(verifySignature({ baseUrl: BASE, headers: { host: "x" }, tokens: { current: KEY } }), {
    ok: false,
    reason: "missing",
  });
});

test("refused: signed with another token", () => {
  const result = verifySignature({
    baseUrl: BASE,
    headers: headersFor("v3", "someone-else"),
    tokens: { current: KEY },
  });
  assert.deepEqual(result, { ok: false, reason: "mismatch" });
});

test("refused: signed for another path", () => {
  const headers = headersFor("v3", KEY, "https://example.com/vobiz/other");
  assert.deepEqual(verifySignature({ baseUrl: BASE, headers, tokens: { current: KEY } }), {
    ok: false,
    reason: "mismatch",
  });
});

test("refused: a truncated signature", () => {
  const headers = headersFor("v3");
  headers["x-vobiz-signature-v3"] = headers["x-vobiz-signature-v3"]!.slice(0, 20);
  assert.deepEqual(verifySignature({ baseUrl: BASE, headers, tokens: { current: KEY } }), {
    ok: false,
    reason: "malformed",
  });
});

test("refused: a signature that is not base64 (hex, for instance)", () => {
  const hex = Buffer.from(computeSignature("v3", BASE, NONCE, KEY), "base64").toString("hex");
  const headers = { "x-vobiz-signature-v3": hex, "x-vobiz-signature-v3-nonce": NONCE };
  assert.deepEqual(verifySignature({ baseUrl: BASE, headers, tokens: { current: KEY } }), {
    ok: false,
    reason: "malformed",
  });
});

test("refused: the nonce header is missing", () => {
  const headers = { "x-vobiz-signature-v3": computeSignature("v3", BASE, NONCE, KEY) };
  assert.deepEqual(verifySignature({ baseUrl: BASE, headers, tokens: { current: KEY } }), {
    ok: false,
    reason: "nonce_missing",
  });
});

test("refused: a V3 signature computed over the V2 nonce", () => {
  const headers = {
    "x-vobiz-signature-v3": computeSignature("v3", BASE, "22222222222222222222", KEY),
    "x-vobiz-signature-v3-nonce": "33333333333333333333",
    "x-vobiz-signature-v2-nonce": "22222222222222222222",
  };
  assert.deepEqual(verifySignature({ baseUrl: BASE, headers, tokens: { current: KEY } }), {
    ok: false,
    reason: "mismatch",
  });
});

test("refused: V2's algorithm (no dot) presented as V3", () => {
  const headers = {
    "x-vobiz-signature-v3": computeSignature("v2", BASE, NONCE, KEY),
    "x-vobiz-signature-v3-nonce": NONCE,
  };
  assert.equal(verifySignature({ baseUrl: BASE, headers, tokens: { current: KEY } }).ok, false);
});

test("refused: no token configured at all", () => {
  assert.deepEqual(verifySignature({ baseUrl: BASE, headers: headersFor("v3"), tokens: {} }), {
    ok: false,
    reason: "mismatch",
  });
});

test("one good signature among bad ones is enough", () => {
  const headers = {
    ...headersFor("v2"),
    "x-vobiz-signature-v3": "A".repeat(43) + "=",
    "x-vobiz-signature-v3-nonce": "9",
  };
  assert.equal(verifySignature({ baseUrl: BASE, headers, tokens: { current: KEY } }).ok, true);
});

test("a header holding several comma-separated signatures verifies when any one of them does", () => {
  for (const scheme of ["v3", "v2"] as const) {
    const good = computeSignature(scheme, BASE, NONCE, KEY);
    const other = computeSignature(scheme, BASE, NONCE, "someone-else");
    for (const value of [
      `${other},${good}`,
      `${good}, ${other}`,
      `not-base64 , ${good}`,
      `${other},,${good}`,
    ]) {
      const headers = {
        [`x-vobiz-signature-${scheme}`]: value,
        [`x-vobiz-signature-${scheme}-nonce`]: NONCE,
      };
      assert.deepEqual(
        verifySignature({ baseUrl: BASE, headers, tokens: { current: KEY } }),
        { ok: true, scheme, family: scheme, nonce: NONCE },
        value,
      );
    }
  }
  const ma = computeSignature("ma-v3", BASE, NONCE, "parent-token");
  const headers = {
    "x-vobiz-signature-ma-v3": `${"A".repeat(43)}=,${ma}`,
    "x-vobiz-signature-v3-nonce": NONCE,
  };
  assert.equal(verifySignature({ baseUrl: BASE, headers, tokens: { parent: "parent-token" } }).ok, true);
});

test("refused: a header holding several signatures of which none verifies", () => {
  const other = (token: string): string => computeSignature("v3", BASE, NONCE, token);
  const refused = (value: string): unknown =>
    verifySignature({
      baseUrl: BASE,
      headers: { "x-vobiz-signature-v3": value, "x-vobiz-signature-v3-nonce": NONCE },
      tokens: { current: KEY },
    });
  assert.deepEqual(refused(`${other("a")},${other("b")}`), { ok: false, reason: "mismatch" });
  const good = computeSignature("v3", BASE, NONCE, KEY);
  assert.deepEqual(refused(`${other("a")},${good.slice(0, 20)}`), { ok: false, reason: "mismatch" });
  assert.deepEqual(refused(`${good.slice(0, 20)},${good.slice(20)}`), { ok: false, reason: "malformed" });
  assert.deepEqual(refused(`${good}${good}`), { ok: false, reason: "malformed" }, "two run together");
  assert.deepEqual(refused(" , ,"), { ok: false, reason: "malformed" });
  const hex = Buffer.from(good, "base64").toString("hex");
  assert.deepEqual(refused(`${hex},${other("a")}`), { ok: false, reason: "mismatch" });
});
