import { signRequest, signatureBaseUrl } from "../../server/signatures/vobiz-signature.ts";
import { TEST_AUTH_TOKEN, TEST_PUBLIC_URL } from "./service.ts";

export interface SendOptions {
  /** GET puts the fields in the query string; anything else sends them as the body */
  method?: string;
  token?: string;
  /** extra or overriding headers (e.g. a content type) */
  headers?: Record<string, string>;
  nonceV3?: string;
  nonceV2?: string;
  /** send no signature headers at all */
  unsigned?: boolean;
  publicUrl?: string;
  /**
   * Resend after a 503 or no answer (a connection that failed or was closed) as Vobiz does (up to 3 times;
   * here after 0.1, 0.3, 0.9 s instead of Retry-After): a loaded machine may answer 503 when Redis is slow,
   * or lose a kept-alive connection the server closed as it was reused, and the sender's retry is the
   * contract (a resent delivery is a duplicate, stored once). 0 for tests of the 503 itself.
   */
  retries?: number;
  /** aborts the request (e.g. AbortSignal.timeout) */
  signal?: AbortSignal;
}

/**
 * Sends a request the way Vobiz does: form-encoded POST (or the fields in the query for GET), signed over
 * PUBLIC_URL + path. `body` may be fields or a raw string.
 */
export async function sendVobiz(
  serviceUrl: string,
  pathAndQuery: string,
  body: Record<string, string> | string = {},
  options: SendOptions = {},
): Promise<Response> {
  const retries = options.retries ?? 3;
  for (let attempt = 0; ; attempt += 1) {
    let response: Response;
    try {
      response = await sendOnce(serviceUrl, pathAndQuery, body, options);
    } catch (error) {
      // the caller's own abort (a timeout it set) is its answer; a failed connection is retried
      if (options.signal?.aborted === true || attempt >= retries) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 * 3 ** attempt));
      continue;
    }
    if (response.status !== 503 || attempt >= retries) return response;
    await response.arrayBuffer();
    await new Promise((resolve) => setTimeout(resolve, 100 * 3 ** attempt));
  }
}

function sendOnce(
  serviceUrl: string,
  pathAndQuery: string,
  body: Record<string, string> | string,
  options: SendOptions,
): Promise<Response> {
  const method = options.method ?? "POST";
  const encoded = typeof body === "string" ? body : new URLSearchParams(body).toString();
  let target = pathAndQuery;
  if (method === "GET" && encoded !== "") target += (target.includes("?") ? "&" : "?") + encoded;
  const signature = options.unsigned
    ? {}
    : signRequest(
        signatureBaseUrl(options.publicUrl ?? TEST_PUBLIC_URL, pathAndQuery),
        options.token ?? TEST_AUTH_TOKEN,
        {
          ...(options.nonceV3 === undefined ? {} : { nonceV3: options.nonceV3 }),
          ...(options.nonceV2 === undefined ? {} : { nonceV2: options.nonceV2 }),
        },
      );
  const headers: Record<string, string> = {
    ...signature,
    ...(method === "GET" ? {} : { "content-type": "application/x-www-form-urlencoded" }),
    ...options.headers,
  };
  return fetch(`${serviceUrl}${target}`, {
    method,
    headers,
    ...(method === "GET" ? {} : { body: encoded }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
}
