/**
 * A vobiz action's checked params as the HTTP request Vobiz gets (reference/vobiz-platform.md §4): the
 * method, the path under `/api/v1` (PascalCase, trailing slash, the call's UUID percent-encoded), and the
 * JSON body. URLs handed to Vobiz that point at Switchboard carry the loop breaker's hop count
 * (`sb_hop`); a make_call's answer, ring and hangup URLs point at Switchboard with the call's id, as
 * `POST /api/calls` does, so the call reports back through the callback hierarchy. Pure.
 */
import { VOBIZ_CATALOGUE, type VobizActionName } from "./vobiz-catalogue.ts";

/** the query parameter that carries how many Vobiz actions led to a callback */
export const HOP_PARAM = "sb_hop";

export interface VobizRequest {
  method: "POST" | "DELETE";
  /** from `/api/v1/` on */
  path: string;
  body: Record<string, unknown> | undefined;
  /** make_call: the per-call settings to store under the call's id */
  call?: {
    id: string;
    status_url?: string;
    status_method?: "GET" | "POST";
    status_events?: string[];
  };
}

export interface RequestOptions {
  authId: string;
  publicUrl: string;
  /** the hop count the URLs handed to Vobiz carry (the event's own plus one) */
  hop: number;
  /** make_call: Switchboard's id for the call (`call_…`) */
  callId: string;
}

/** `url` with `sb_hop` (and `call`) set, when it points at Switchboard; other URLs are left alone. */
export function markUrl(
  url: string,
  options: Pick<RequestOptions, "publicUrl" | "hop">,
  callId?: string,
): string {
  const base = options.publicUrl;
  const rest = url.startsWith(base) ? url.slice(base.length) : undefined;
  if (rest === undefined || !(rest === "" || rest.startsWith("/") || rest.startsWith("?"))) return url;
  const parsed = new URL(url);
  if (callId !== undefined) parsed.searchParams.set("call", callId);
  parsed.searchParams.set(HOP_PARAM, String(options.hop));
  return parsed.toString();
}

export function buildVobizRequest(
  vobiz: VobizActionName,
  params: Readonly<Record<string, unknown>>,
  options: RequestOptions,
): VobizRequest {
  const spec = VOBIZ_CATALOGUE[vobiz];
  const { call_uuid: callUuid, ...rest } = params;
  let path = `/api/v1${spec.path.replace("{auth}", encodeURIComponent(options.authId))}`;
  if (spec.call)
    path = path.replace("{call}", encodeURIComponent(typeof callUuid === "string" ? callUuid : ""));
  const body: Record<string, unknown> = { ...rest };
  for (const name of spec.urls) {
    if (typeof body[name] === "string") body[name] = markUrl(body[name], options);
  }
  if (vobiz !== "make_call") return { method: spec.method, path, body: spec.body ? body : undefined };

  const { flow, status_url, status_method, status_events, ...call } = body;
  const id = options.callId;
  const events = markUrl(`${options.publicUrl}/events/calls`, options, id);
  call.answer_url =
    typeof flow === "string"
      ? markUrl(`${options.publicUrl}/answer/${flow}`, options, id)
      : markUrl(String(call.answer_url), options, id);
  call.answer_method ??= "POST";
  Object.assign(call, { ring_url: events, ring_method: "POST", hangup_url: events, hangup_method: "POST" });
  return {
    method: "POST",
    path,
    body: call,
    call: {
      id,
      ...(typeof status_url === "string" ? { status_url } : {}),
      ...(status_method === "GET" || status_method === "POST" ? { status_method } : {}),
      ...(Array.isArray(status_events) ? { status_events: status_events as string[] } : {}),
    },
  };
}

/** The request as the dry run and traces show it: the account id, never the token. */
export function showVobizRequest(request: VobizRequest, authId: string | undefined): Record<string, unknown> {
  return {
    method: request.method,
    path: request.path,
    headers: { "X-Auth-ID": authId ?? "(VOBIZ_AUTH_ID is not set)", "X-Auth-Token": "[redacted]" },
    ...(request.body === undefined ? {} : { body: request.body }),
  };
}
