/**
 * A rendered vobiz action as the dry run shows it (SPEC §7 `POST /admin/evaluate`): the params checked as
 * they would be before sending, and the request Vobiz would get (method, path, body; the account id,
 * never the token; secrets render as `[secret NAME]` outside send time). Also says whether the loop
 * breaker's hop limit would refuse it. Nothing is sent or stored. Pure.
 */
import type { RenderedVobiz } from "./compile-actions.ts";
import { finishVobizParams } from "./check-vobiz-params.ts";
import type { VobizAction } from "../rules/rule-file-types.ts";
import { DEFAULT_LIMITS, eventHop } from "./run-vobiz.ts";
import { VOBIZ_CATALOGUE } from "./vobiz-catalogue.ts";
import { buildVobizRequest, showVobizRequest } from "./vobiz-request.ts";

export function previewVobiz(
  rendered: RenderedVobiz,
  spec: VobizAction,
  options: {
    authId: string | undefined;
    publicUrl: string;
    query: Readonly<Record<string, string | string[]>>;
  },
): RenderedVobiz & { request?: Record<string, unknown>; refused?: string; error?: string } {
  let params: Record<string, unknown>;
  try {
    params = finishVobizParams(rendered.vobiz, rendered.params);
    if (VOBIZ_CATALOGUE[rendered.vobiz].call && typeof params.call_uuid !== "string")
      throw new Error(`${rendered.vobiz} needs a call: the event has no CallUUID; give params.call_uuid`);
  } catch (error) {
    return { ...rendered, error: (error as Error).message };
  }
  const hop = eventHop(options.query);
  const maxHops = spec.limits?.max_hops ?? DEFAULT_LIMITS.max_hops;
  const request = buildVobizRequest(rendered.vobiz, params, {
    authId: options.authId ?? "(VOBIZ_AUTH_ID)",
    publicUrl: options.publicUrl,
    hop: hop + 1,
    callId: "call_(dry-run)",
  });
  return {
    ...rendered,
    params,
    request: showVobizRequest(request, options.authId),
    ...(hop >= maxHops
      ? { refused: `max_hops: the event is ${hop} hops away; the rule allows ${maxHops}` }
      : {}),
  };
}
