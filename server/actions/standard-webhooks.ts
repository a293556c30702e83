/**
 * Standard Webhooks signing (https://www.standardwebhooks.com): `webhook-id`, `webhook-timestamp` and
 * `webhook-signature: v1,<base64 HMAC-SHA256 over "id.timestamp.body">`, keyed by a `whsec_<base64>`
 * secret, so receivers can verify with any Standard Webhooks library. Pure.
 */
import { createHmac } from "node:crypto";

/** The key bytes of a `whsec_…` secret (a secret without the prefix is taken as base64 too). */
export function signingKey(secret: string): Buffer {
  const key = Buffer.from(secret.startsWith("whsec_") ? secret.slice(6) : secret, "base64");
  if (key.length === 0) throw new Error("the signing secret is empty; use a whsec_<base64> secret");
  return key;
}

export function webhookHeaders(
  secret: string,
  id: string,
  body: string,
  now: Date = new Date(),
): { "webhook-id": string; "webhook-timestamp": string; "webhook-signature": string } {
  const timestamp = String(Math.floor(now.getTime() / 1000));
  const signature = createHmac("sha256", signingKey(secret))
    .update(`${id}.${timestamp}.${body}`)
    .digest("base64");
  return { "webhook-id": id, "webhook-timestamp": timestamp, "webhook-signature": `v1,${signature}` };
}
