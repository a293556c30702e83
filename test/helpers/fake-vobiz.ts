import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { after } from "node:test";

export const FAKE_AUTH_ID = "MA_TESTACCOUNT";

export interface FakeVobiz {
  url: string;
  requests: Array<{ method: string; path: string; headers: IncomingMessage["headers"]; body: unknown }>;
}

/**
 * A local stand-in for the Vobiz REST API that checks requests the way the reference says Vobiz does:
 * `X-Auth-ID` / `X-Auth-Token` headers (401 otherwise, and for HTTP Basic), PascalCase paths with a
 * trailing slash (401 for `/account/…` or a missing slash), JSON bodies with the required Make Call fields.
 */
export async function startFakeVobiz(token: string): Promise<FakeVobiz> {
  const requests: FakeVobiz["requests"] = [];
  let calls = 0;
  const server = createServer((req, res) => {
    let text = "";
    req.on("data", (chunk: Buffer) => (text += chunk.toString()));
    req.on("end", () => {
      const reply = (status: number, body: unknown): void => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      };
      let body: unknown;
      try {
        body = text === "" ? undefined : JSON.parse(text);
      } catch {
        reply(400, { error: "the body is not JSON" });
        return;
      }
      requests.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers, body });
      if (req.headers["x-auth-id"] !== FAKE_AUTH_ID || req.headers["x-auth-token"] !== token) {
        reply(401, { error: "authentication failed: send X-Auth-ID and X-Auth-Token" });
        return;
      }
      if (req.method === "POST" && req.url === `/api/v1/Account/${FAKE_AUTH_ID}/Call/`) {
        const call = body as Record<string, unknown> | undefined;
        if (!req.headers["content-type"]?.startsWith("application/json"))
          return reply(415, { error: "send JSON" });
        for (const field of ["from", "to", "answer_url", "answer_method"]) {
          if (typeof call?.[field] !== "string") return reply(400, { error: `${field} is required` });
        }
        calls += 1;
        return reply(200, { api_id: `api-${calls}`, message: "Call fired", request_uuid: `uuid-${calls}` });
      }
      reply(401, { error: "unknown path (paths are PascalCase with a trailing slash)" });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}
