/**
 * The admin API's description (issue 17 item 7): `GET /admin/openapi.json` describes every JSON admin
 * route mounted in the app, each admin router validates with the same schemas (ADMIN_API), and bad
 * input gets 400 with the JSON pointer and a message.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type Router from "@koa/router";
import { Ajv2020 } from "ajv/dist/2020.js";
import { inject } from "light-my-request";
import { ADMIN_API, openApiPath, validateRequest } from "../../server/http/admin-api.ts";
import { buildTestApp } from "../helpers/app.ts";
import { TEST_ADMIN_TOKEN } from "../helpers/service.ts";

/**
 * Admin paths that are not JSON API routes, so not in the document: the dashboard's HTML pages, its
 * sign-in form and static files, and bull-board. A route is left out only by being named here.
 */
const NOT_JSON_API: readonly RegExp[] = [
  /^\/admin\/?$/,
  /^\/admin\/(login|logout)$/,
  /^\/admin\/static\//,
  /^\/admin\/queues(\/|$)/,
];

const { app } = await buildTestApp(import.meta.url);
const handler = app.callback();
const auth = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

interface Problem {
  in: string;
  pointer: string;
  message: string;
}

async function get(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await inject(handler, { method: "GET", url, headers: auth });
  return { status: response.statusCode, body: response.json() };
}

async function post(
  url: string,
  payload: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await inject(handler, {
    method: "POST",
    url,
    headers: { ...auth, "content-type": "application/json" },
    payload: JSON.stringify(payload),
  });
  return { status: response.statusCode, body: response.json() };
}

/** every router mounted in the app (@koa/router's dispatch function carries its router) */
const routers = app.middleware
  .map((middleware) => (middleware as { router?: Router }).router)
  .filter((router): router is Router => router !== undefined);

/** the routes (method + path) of the routers that serve /admin and /api */
function adminRoutes(): Array<{ method: string; path: string; router: Router }> {
  const routes: Array<{ method: string; path: string; router: Router }> = [];
  for (const router of routers)
    for (const layer of router.stack)
      for (const method of layer.methods) {
        // the admin routes are declared with string paths (a RegExp route could not be documented)
        const path = String(layer.path);
        if (method === "HEAD" || !/^\/(admin|api)(\/|$)/.test(path)) continue;
        if (NOT_JSON_API.some((pattern) => pattern.test(path))) continue;
        routes.push({ method, path, router });
      }
  return routes;
}

const document = (await get("/admin/openapi.json")).body as {
  openapi: string;
  paths: Record<string, Record<string, Record<string, unknown>>>;
};

test("GET /admin/openapi.json is an OpenAPI 3.1 document, behind the admin token", async () => {
  assert.equal(document.openapi, "3.1.0");
  const anonymous = await inject(handler, { method: "GET", url: "/admin/openapi.json" });
  assert.equal(anonymous.statusCode, 401);
  // every schema in it compiles under the 2020-12 dialect OpenAPI 3.1 uses
  const ajv = new Ajv2020({ strict: false, validateFormats: false });
  for (const operations of Object.values(document.paths))
    for (const operation of Object.values(operations)) {
      const body = (operation.requestBody as { content: Record<string, { schema: object }> } | undefined)
        ?.content["application/json"]?.schema;
      if (body) ajv.compile(body);
      for (const parameter of (operation.parameters ?? []) as Array<{ schema: object }>)
        ajv.compile(parameter.schema);
      assert.ok(operation.responses, "every operation has its responses");
    }
});

test("every JSON route on the admin routers is in the document, and every documented route exists", () => {
  const routes = adminRoutes();
  assert.ok(routes.length >= 9, `the admin routes were found (${routes.length})`);
  const missing = routes
    .filter(({ method, path }) => document.paths[openApiPath(path)]?.[method.toLowerCase()] === undefined)
    .map(({ method, path }) => `${method} ${path}`);
  assert.deepEqual(missing, [], "add these to ADMIN_API in server/http/admin-api.ts (docs/admin-api.md)");
  const mounted = new Set(routes.map(({ method, path }) => `${method} ${path}`));
  assert.deepEqual(
    Object.keys(ADMIN_API).filter((key) => !mounted.has(key)),
    [],
    "ADMIN_API describes routes that no router serves",
  );
});

test("every admin router checks its requests against those schemas (validateRequest is mounted)", () => {
  for (const router of new Set(adminRoutes().map(({ router }) => router))) {
    const mounted = router.stack.some(
      (layer) => layer.methods.length === 0 && layer.stack.includes(validateRequest),
    );
    assert.ok(mounted, `the router of ${router.stack.map((l) => l.path).join(", ")} mounts validateRequest`);
  }
});

test("a query parameter out of range or unknown: 400 ADMIN_QUERY_INVALID with its pointer and what to send", async () => {
  const big = await get("/admin/events?limit=500");
  assert.equal(big.status, 400);
  assert.equal(big.body.code, "ADMIN_QUERY_INVALID");
  const [problem] = big.body.errors as Problem[];
  assert.equal(problem?.in, "query");
  assert.equal(problem?.pointer, "/limit");
  assert.match(problem?.message ?? "", /must be <= 200: expected a page size from 1 to 200/);

  const typo = await get("/admin/events?callUUID=abc");
  assert.equal(typo.status, 400);
  assert.deepEqual(
    (typo.body.errors as Problem[]).map((p) => p.pointer),
    ["/callUUID"],
  );
  assert.match(String(typo.body.message), /not a known parameter \(known: .*CallUUID/);

  const status = await get("/admin/events?status=done&since=yesterday");
  assert.deepEqual((status.body.errors as Problem[]).map((p) => p.pointer).sort(), ["/since", "/status"]);

  // what the schema allows passes through to the route
  const fine = await get("/admin/events?limit=5&status=ok&since=2025-01-06T10:00:00Z");
  assert.equal(fine.status, 200);
  assert.deepEqual(fine.body, { items: [], next: null });
});

test("a body that does not fit: 400 ADMIN_BODY_INVALID with every problem's pointer; a fitting one is served", async () => {
  const bad = await post("/admin/evaluate", { path: "events", event: "Hangup", extra: 1 });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.code, "ADMIN_BODY_INVALID");
  const problems = bad.body.errors as Problem[];
  assert.deepEqual(problems.map((p) => [p.in, p.pointer]).sort(), [
    ["body", "/event"],
    ["body", "/extra"],
    ["body", "/path"],
  ]);
  assert.match(
    problems.find((p) => p.pointer === "/event")?.message ?? "",
    /must be object: expected an object/,
  );

  const retry = await post("/admin/dead-letters/retry", { rule: 7 });
  assert.equal(retry.status, 400);
  assert.deepEqual(retry.body.errors, [
    { in: "body", pointer: "/rule", message: "must be string: expected a rule id" },
  ]);

  // the body the validator read is the one the route reads
  const good = await post("/admin/evaluate", { path: "/events", event: { Event: "Hangup" } });
  assert.equal(good.status, 200);
  assert.deepEqual((good.body.event as { type: string }).type, "Hangup");
});

test("the document's schemas are the validator's own (one table)", () => {
  const operation = document.paths["/admin/evaluate"]?.post as {
    requestBody: { content: { "application/json": { schema: unknown } } };
  };
  assert.deepEqual(
    operation.requestBody.content["application/json"].schema,
    ADMIN_API["POST /admin/evaluate"]?.body,
  );
});

test("every documented body field is accepted: retrying dead letters with include_unknown", async () => {
  const retried = await post("/admin/dead-letters/retry", { rule: "no-such-rule", include_unknown: true });
  assert.equal(retried.status, 202, JSON.stringify(retried.body));
  assert.equal(retried.body.retried, 0);
  const typo = await post("/admin/dead-letters/retry", { include_unknwn: true });
  assert.equal(typo.status, 400);
  assert.equal(typo.body.code, "ADMIN_BODY_INVALID");
});
