/**
 * Slow clients (SPEC §2: nothing a client sends may stop the service): 1,000 connections that send nothing
 * or trickle a request head do not stop a signed /answer from getting its XML, and the server answers each
 * of them 408 and disconnects it once HTTP_HEADERS_TIMEOUT is up (Node's own default is 60 s, checked
 * every 30 s).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { test } from "node:test";
import { startTestService } from "../helpers/service.ts";
import { sendVobiz } from "../helpers/vobiz.ts";

const CONNECTIONS = 1000;

/** The soft limit on open files, from /proc (Node cannot read or raise it itself). */
function openFileLimit(): number {
  try {
    const line = readFileSync("/proc/self/limits", "utf8")
      .split("\n")
      .find((l) => l.startsWith("Max open files"));
    const soft = line?.split(/\s{2,}/)[1];
    return soft === undefined || soft === "unlimited" ? Infinity : Number(soft);
  } catch {
    return Infinity; // not Linux: let the test find out
  }
}

// the client's sockets and the server's (same process), Redis, the test runner: about 2 per connection
const needed = CONNECTIONS * 2 + 500;
assert.ok(
  openFileLimit() >= needed,
  `this test opens ${CONNECTIONS} connections to the service in this process and needs about ${needed} ` +
    `open files; the limit is ${openFileLimit()}: raise it (ulimit -n ${needed}) before running the tests`,
);

// 20 s: on a loaded machine opening the 1,000 connections and the /answer can take over 10 s, and the first
// connections must still be open when /answer answers
const service = await startTestService(import.meta.url, {
  HTTP_HEADERS_TIMEOUT: "20s",
  HTTP_REQUEST_TIMEOUT: "40s",
});
const { port } = new URL(service.url);

interface SlowClient {
  socket: Socket;
  received: string;
  closed: boolean;
}

test("1,000 idle or trickling connections do not stop /answer, and each is cut off with a 408", async (t) => {
  const clients: SlowClient[] = [];
  const trickling: SlowClient[] = [];
  let line = 0;
  // one timer for all: each trickling client adds a header line every second, never ending its head
  const trickle = setInterval(() => {
    line += 1;
    for (const client of trickling) if (!client.closed) client.socket.write(`X-Slow-${line}: y\r\n`);
  }, 1000);
  t.after(() => {
    clearInterval(trickle);
    for (const client of clients) client.socket.destroy();
  });

  await Promise.all(
    Array.from({ length: CONNECTIONS }, (_, i) => {
      const socket = connect(Number(port), "127.0.0.1");
      const client: SlowClient = { socket, received: "", closed: false };
      clients.push(client);
      socket.setEncoding("utf8");
      socket.on("data", (chunk: string) => (client.received += chunk));
      socket.on("close", () => (client.closed = true));
      return new Promise<void>((resolve, reject) => {
        socket.once("error", reject);
        socket.once("connect", () => {
          if (i % 2 === 1) {
            socket.write("POST /answer HTTP/1.1\r\nHost: 127.0.0.1\r\n");
            trickling.push(client);
          }
          resolve();
        });
      });
    }),
  );

  const response = await sendVobiz(service.url, "/answer", {
    Event: "StartApp",
    CallUUID: `slow-clients-${process.pid}`,
    From: "919876543210",
    To: "918040001234",
  });
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /^application\/xml/);
  assert.match(await response.text(), /<Response>[\s\S]*<\/Response>/);
  assert.equal(
    clients.filter((client) => client.closed).length,
    0,
    "every slow connection was still open when /answer answered",
  );

  // the server cuts them off: wait (bounded, under Node's own 60 s + 30 s) until all are closed
  const deadline = Date.now() + 60_000;
  while (clients.some((client) => !client.closed)) {
    assert.ok(
      Date.now() < deadline,
      `${clients.filter((client) => !client.closed).length} slow connections still open after 60 s`,
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const answered408 = clients.filter((client) => client.received.startsWith("HTTP/1.1 408 ")).length;
  assert.equal(answered408, CONNECTIONS, "each slow connection was answered 408 before it was closed");
});
