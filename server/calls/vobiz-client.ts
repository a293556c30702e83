/**
 * The Vobiz REST API as Switchboard uses it (reference/vobiz-platform.md §4): `X-Auth-ID` / `X-Auth-Token`
 * headers (not HTTP Basic), JSON bodies, PascalCase paths with a trailing slash.
 */
import { request } from "undici";
import { AppError } from "../errors.ts";

export interface VobizCredentials {
  apiUrl: string;
  authId: string | undefined;
  authToken: string | undefined;
}

export interface MakeCallBody {
  from: string;
  to: string;
  answer_url: string;
  answer_method: "GET" | "POST";
  ring_url?: string;
  ring_method?: "GET" | "POST";
  hangup_url?: string;
  hangup_method?: "GET" | "POST";
}

export interface VobizClient {
  /** POST /api/v1/Account/{auth_id}/Call/ → the call's request_uuid */
  makeCall(body: MakeCallBody): Promise<{ request_uuid: string }>;
}

export function createVobizClient(credentials: VobizCredentials, timeoutMs = 10_000): VobizClient {
  return {
    async makeCall(body) {
      const { authId, authToken } = credentials;
      if (!authId || !authToken) throw new AppError("VOBIZ_NOT_CONFIGURED");
      const url = `${credentials.apiUrl}/api/v1/Account/${encodeURIComponent(authId)}/Call/`;
      let status: number;
      let text: string;
      try {
        const response = await request(url, {
          method: "POST",
          headers: {
            "x-auth-id": authId,
            "x-auth-token": authToken,
            "content-type": "application/json",
            accept: "application/json",
          },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(timeoutMs),
        });
        status = response.statusCode;
        text = await response.body.text();
      } catch (error) {
        throw new AppError("VOBIZ_API_ERROR", `Vobiz could not be reached: ${(error as Error).message}`, {
          cause: error,
        });
      }
      let parsed: { request_uuid?: unknown; message?: unknown; error?: unknown } = {};
      try {
        parsed = JSON.parse(text) as typeof parsed;
      } catch {
        // not JSON: reported below with the status
      }
      if (status < 200 || status >= 300 || typeof parsed.request_uuid !== "string") {
        const said =
          typeof parsed.error === "string"
            ? parsed.error
            : typeof parsed.message === "string"
              ? parsed.message
              : text.slice(0, 200);
        throw new AppError("VOBIZ_API_ERROR", `Vobiz refused the call (${status}): ${said}`, {
          details: { vobizStatus: status },
        });
      }
      return { request_uuid: parsed.request_uuid };
    },
  };
}
