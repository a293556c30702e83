import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { connect, createServer, type AddressInfo, type Socket } from "node:net";
import { test } from "node:test";
import type { RenderedForward } from "../../../server/actions/compile-actions.ts";
import {
  classify,
  isSuccess,
  requestLine,
  sendForward,
  type AttemptOutcome,
} from "../../../server/actions/send-forward.ts";

test("success specs: classes and exact codes", () => {
  assert.equal(isSuccess(204, "2xx"), true);
  assert.equal(isSuccess(404, "2xx"), false);
  assert.equal(isSuccess(404, "2xx,404"), true);
  assert.equal(isSuccess(302, "2xx,3xx"), true);
});

test("4xx other than 408/409/425/429 fail for good; 5xx and those four are retried", () => {
  for (const status of [400, 401, 403, 404, 410, 422])
    assert.equal(classify(status, "2xx"), "permanent", String(status));
  for (const status of [408, 409, 425, 429, 500, 502, 503, 504, 302])
    assert.equal(classify(status, "2xx"), "retry", String(status));
  assert.equal(classify(200, "2xx"), "delivered");
});

test("the request line never carries the query string", () => {
  assert.equal(
    requestLine("GET", "https://crm.example.com/calls?token=abc&caller=1"),
    "GET https://crm.example.com/calls",
  );
  assert.equal(requestLine("POST", "not a url"), "POST (invalid URL)");
});

/** A destination on 127.0.0.1 that answers through the raw socket, so it can trickle any part. */
async function rawDestination(onSocket: (socket: Socket) => void): Promise<{ url: string; close(): void }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket)).on("error", () => {});
    onSocket(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    close() {
      server.close();
      for (const socket of sockets) socket.destroy();
    },
  };
}

/** Writes `parts` one at a time, every 20 ms, until the client goes away (at most 10 s of trickle). */
function trickle(socket: Socket, parts: (n: number) => string, count = 500): void {
  let n = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || n >= count) return void clearInterval(timer);
    socket.write(parts(n++));
  }, 20);
  socket.on("close", () => clearInterval(timer));
}

const forward = (url: string, timeoutMs: number): RenderedForward => ({
  type: "forward",
  url,
  method: "POST",
  headers: {},
  body: "CallUUID=abc",
  content_type: "application/x-www-form-urlencoded",
  fallback_url: undefined,
  timeoutMs,
  retry: { attempts: 1, backoff: "fixed", delayMs: 0, maxDelayMs: 0 },
  sign: false,
  success: "2xx",
  signing_secret: undefined,
});
const send = (url: string, timeoutMs: number): Promise<AttemptOutcome> =>
  sendForward(forward(url, timeoutMs), {
    url,
    idempotencyKey: "evt_1:r:0",
    userAgent: "Switchboard/test",
    signingSecret: undefined,
  });

test("the timeout bounds the whole attempt: a body that trickles in fails the attempt as timed out", async (t) => {
  const destination = await rawDestination((socket) => {
    socket.once("data", () => {
      socket.write("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n");
      trickle(socket, () => "1\r\nx\r\n");
    });
  });
  t.after(() => destination.close());
  const outcome = await send(destination.url, 300);
  assert.equal(outcome.error, "timed out after 300 ms");
  assert.equal(outcome.verdict, "retry");
  assert.equal(outcome.status, undefined, "not reported as a delivered 200");
});

test("the timeout bounds the whole attempt: headers that trickle in fail the attempt as timed out", async (t) => {
  const destination = await rawDestination((socket) => {
    socket.once("data", () => {
      socket.write("HTTP/1.1 200 OK\r\n");
      trickle(socket, (n) => `x-slow-${n}: y\r\n`);
    });
  });
  t.after(() => destination.close());
  const outcome = await send(destination.url, 300);
  assert.equal(outcome.error, "timed out after 300 ms");
  assert.equal(outcome.verdict, "retry");
});

test("a destination that never answers fails the attempt as timed out", async (t) => {
  const destination = await rawDestination(() => {});
  t.after(() => destination.close());
  const outcome = await send(destination.url, 300);
  assert.equal(outcome.error, "timed out after 300 ms");
  assert.equal(outcome.verdict, "retry");
});

test("the timeout bounds connecting too: a destination whose accept queue is full fails as timed out", async (t) => {
  // a listener with the smallest backlog in a process that never accepts (its event loop is blocked):
  // once a few connections fill its queue, the kernel drops further SYNs and connecting hangs
  const child = spawn(
    process.execPath,
    [
      "-e",
      `require("node:net").createServer().listen({ port: 0, host: "127.0.0.1", backlog: 0 }, function () {
        process.stdout.write(this.address().port + "\\n", () =>
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60000));
      });`,
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const fillers: Socket[] = [];
  t.after(() => {
    child.kill("SIGKILL");
    for (const socket of fillers) socket.destroy();
  });
  const [chunk] = (await once(child.stdout, "data")) as [Buffer];
  const port = Number(chunk.toString().trim());
  for (let i = 0; i < 3; i += 1) fillers.push(connect(port, "127.0.0.1").on("error", () => {}));
  const outcome = await send(`http://127.0.0.1:${port}/hook`, 300);
  assert.equal(outcome.error, "timed out after 300 ms");
  assert.equal(outcome.verdict, "retry");
});

test("a destination that answers within the timeout is delivered, body and all", async (t) => {
  const destination = await rawDestination((socket) => {
    socket.once("data", () => {
      socket.write("HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n");
      socket.end();
    });
  });
  t.after(() => destination.close());
  const outcome = await send(destination.url, 5000);
  assert.equal(outcome.verdict, "delivered");
  assert.equal(outcome.status, 204);
  assert.equal(outcome.error, undefined);
});
