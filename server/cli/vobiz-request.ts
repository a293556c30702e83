/**
 * One request to a running Switchboard, signed the way Vobiz signs it: V3 and V2 signatures over
 * PUBLIC_URL + path (query cut off) with VOBIZ_AUTH_TOKEN, the body form-encoded. The request itself goes
 * to the instance's own address (`--url`), which behind a tunnel differs from PUBLIC_URL.
 */
import { signatureBaseUrl, signRequest } from "../signatures/vobiz-signature.ts";
import type { Fields } from "./vobiz-payloads.ts";

export interface Target {
  /** where the instance listens, e.g. http://localhost:3000 */
  url: string;
  /** the origin Vobiz calls (the service's PUBLIC_URL): what signatures cover */
  publicUrl: string;
  /** VOBIZ_AUTH_TOKEN; without it the request goes unsigned */
  authToken: string | undefined;
}

export interface VobizResponse {
  status: number;
  contentType: string;
  body: string;
  headers: Headers;
}

/** Thrown when the instance cannot be reached at all. */
export class UnreachableError extends Error {}

export async function sendVobizRequest(
  target: Target,
  path: string,
  fields: Fields,
  method: "GET" | "POST" = "POST",
): Promise<VobizResponse> {
  const form = new URLSearchParams(fields).toString();
  const headers: Record<string, string> = {
    "user-agent": "Vobiz",
    ...(target.authToken ? signRequest(signatureBaseUrl(target.publicUrl, path), target.authToken) : {}),
  };
  let url = target.url.replace(/\/+$/, "") + path;
  const init: RequestInit = { method, headers, signal: AbortSignal.timeout(30_000) };
  if (method === "GET") {
    url += (url.includes("?") ? "&" : "?") + form;
  } else {
    headers["content-type"] = "application/x-www-form-urlencoded";
    init.body = form;
  }
  let response: Response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    throw new UnreachableError(
      `could not reach ${target.url} (${cause}); is Switchboard running there (npm start)? Use --url to point elsewhere`,
    );
  }
  return {
    status: response.status,
    contentType: response.headers.get("content-type") ?? "",
    body: await response.text(),
    headers: response.headers,
  };
}

/** What to change when the service refused the request, said from the sender's side. */
export function explainRefusal(status: number, body: string, target: Target): string | undefined {
  let code: string | undefined;
  try {
    code = (JSON.parse(body) as { code?: string }).code;
  } catch {
    code = undefined;
  }
  if (code === "SIGNATURE_MISSING") {
    return "the service requires a Vobiz signature and this request had none: set VOBIZ_AUTH_TOKEN here to the service's VOBIZ_AUTH_TOKEN";
  }
  if (code === "SIGNATURE_INVALID" || (status === 401 && code === undefined)) {
    return (
      `the service did not accept the signature: VOBIZ_AUTH_TOKEN here must be the service's, and PUBLIC_URL here ` +
      `(${target.publicUrl}) must be the service's PUBLIC_URL, since the signature covers PUBLIC_URL + path`
    );
  }
  return undefined;
}
