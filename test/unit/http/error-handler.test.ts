import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { createServer as createTcpServer, type AddressInfo, type Socket } from "node:net";
import { after, before, test } from "node:test";
import Router from "@koa/router";
import { Redis } from "ioredis";
import Koa from "koa";
import { AppError } from "../../../server/errors.ts";
import { requestContext, type RequestState } from "../../../server/http/middleware/request-context.ts";
import { createLogSink } from "../../helpers/log-sink.ts";

const sink = createLogSink();
let server: Server;
let base = "";
// a "Redis" that accepts connections and never answers: ioredis's own command timeout fires
const sockets: Socket[] = [];
const silent = createTcpServer((socket) => sockets.push(socket));
let stalled: Redis;

before(async () => {
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  stalled = new Redis({
    port: (silent.address() as AddressInfo).port,
    host: "127.0.0.1",
    enableReadyCheck: false,
    commandTimeout: 200,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  const router = new Router<RequestState>();
  router.get("/redis-stalled", async (ctx) => {
    ctx.body = await stalled.get("anything");
  });
  router.get("/boom", () => {
    throw new Error("database password is hunter2");
  });
  router.get("/refused", () => {
    throw new AppError("QUEUE_UNAVAILABLE", undefined, {
      headers: { "Retry-After": "5" },
      details: { retry: true },
    });
  });
  const app = new Koa<RequestState>();
  app.silent = true;
  app.use(requestContext(sink.log));
  app.use(router.routes());
  app.use(router.allowedMethods({ throw: true }));
  server = createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  stalled.disconnect();
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => silent.close(() => resolve()));
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

test("Redis that does not answer in time is a 503 QUEUE_UNAVAILABLE with Retry-After, not a 500", async () => {
  const response = await fetch(`${base}/redis-stalled`);
  assert.equal(response.status, 503);
  assert.equal(response.headers.get("retry-after"), "5");
  const body = (await response.json()) as Record<string, unknown>;
  assert.equal(body.code, "QUEUE_UNAVAILABLE");
  assert.match(String(body.message), /Redis did not answer in time/);
});

test("a 500 answers a generic JSON error and never the internal message", async () => {
  const response = await fetch(`${base}/boom`);
  assert.equal(response.status, 500);
  const body = (await response.json()) as Record<string, unknown>;
  assert.deepEqual(Object.keys(body).sort(), ["code", "message"]);
  assert.equal(body.code, "INTERNAL_ERROR");
  assert.ok(!JSON.stringify(body).includes("hunter2"));
  const logged = sink.lines().find((line) => line.msg === "request failed");
  assert.ok(logged, "the failure is logged with its request id");
  assert.equal(typeof logged.requestId, "string");
});

test("an AppError answers its code, status, headers and exposed details", async () => {
  const response = await fetch(`${base}/refused`);
  assert.equal(response.status, 503);
  assert.equal(response.headers.get("retry-after"), "5");
  assert.deepEqual(await response.json(), {
    code: "QUEUE_UNAVAILABLE",
    message: "The event store is unavailable; retry later.",
    retry: true,
  });
});

test("unknown routes and methods get NOT_FOUND and METHOD_NOT_ALLOWED", async () => {
  const missing = await fetch(`${base}/nowhere`);
  assert.equal(missing.status, 404);
  assert.equal(((await missing.json()) as { code: string }).code, "NOT_FOUND");
  const wrong = await fetch(`${base}/boom`, { method: "DELETE" });
  assert.equal(wrong.status, 405);
  assert.equal(((await wrong.json()) as { code: string }).code, "METHOD_NOT_ALLOWED");
});

test("every response carries a request id, and a sane incoming one is kept", async () => {
  const response = await fetch(`${base}/nowhere`, { headers: { "x-request-id": "abc-123" } });
  assert.equal(response.headers.get("x-request-id"), "abc-123");
  const generated = await fetch(`${base}/nowhere`, {
    headers: { "x-request-id": "spaces are not allowed in ids" },
  });
  assert.match(generated.headers.get("x-request-id") ?? "", /^[0-9A-Z]{26}$/);
});
