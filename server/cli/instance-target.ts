/**
 * Which running instance the network commands talk to, and with what credentials, from the same
 * variables the service reads: `--url` (default http://localhost:$PORT), PUBLIC_URL (what signatures
 * cover; default the same as the service's), VOBIZ_AUTH_TOKEN and ADMIN_TOKEN.
 */
import { stringOption, UsageError, type CliIo, type ParsedArgs } from "./cli-command.ts";
import type { Target } from "./vobiz-request.ts";

export interface InstanceTarget extends Target {
  adminToken: string | undefined;
}

export const INSTANCE_OPTIONS = { url: { type: "string" } } as const;
export const INSTANCE_HELP = {
  url: "the instance to call (default http://localhost:$PORT, PORT default 3000)",
};

export function instanceTarget(args: ParsedArgs, io: CliIo): InstanceTarget {
  const local = `http://localhost:${io.env.PORT || "3000"}`;
  const url = stringOption(args, "url") ?? local;
  if (!/^https?:\/\/[^/]/.test(url)) throw new UsageError(`--url must be an http(s) URL such as ${local}`);
  return {
    url: url.replace(/\/+$/, ""),
    publicUrl: (io.env.PUBLIC_URL || local).replace(/\/+$/, ""),
    authToken: io.env.VOBIZ_AUTH_TOKEN || undefined,
    adminToken: io.env.ADMIN_TOKEN || undefined,
  };
}

/** GET or POST an admin route with ADMIN_TOKEN; a missing token is a usage error, a refused one says what to fix. */
export async function adminRequest(
  target: InstanceTarget,
  method: "GET" | "POST",
  path: string,
  json?: unknown,
): Promise<{ status: number; body: unknown }> {
  if (!target.adminToken) {
    throw new UsageError(
      "set ADMIN_TOKEN to the service's admin token (printed at start when it was not set)",
    );
  }
  let response: Response;
  try {
    response = await fetch(target.url + path, {
      method,
      headers: {
        authorization: `Bearer ${target.adminToken}`,
        ...(json === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(json === undefined ? {} : { body: JSON.stringify(json) }),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    throw new AdminRequestError(
      `could not reach ${target.url} (${cause}); is Switchboard running there (npm start)? Use --url to point elsewhere`,
    );
  }
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text) as unknown;
  } catch {
    // not JSON: kept as text
  }
  if (response.status === 401) {
    throw new AdminRequestError(
      "401 ADMIN_UNAUTHORIZED: ADMIN_TOKEN here is not the service's admin token (it is printed at start when not set)",
    );
  }
  return { status: response.status, body };
}

/** A request that failed in a way the user must fix (not a usage error): exit 1 with this message. */
export class AdminRequestError extends Error {}
