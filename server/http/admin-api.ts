/**
 * The admin API's one description (issue 17 item 7): every JSON admin route has an entry in `ADMIN_API`,
 * keyed `"<METHOD> <koa path>"`. The same entry is (1) the schema `validateRequest` checks the query
 * string and the JSON body against (ajv, JSON Schema 2020-12), and (2) the route's operation in the
 * OpenAPI 3.1 document served at `GET /admin/openapi.json`. So the description cannot drift from what
 * the routes accept, and test/integration/admin-openapi.test.ts fails when a route on an admin router is
 * missing here (docs/admin-api.md: "Adding a route").
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import type Router from "@koa/router";
import type { Middleware } from "koa";
import { AppError } from "../errors.ts";
import { VERSION } from "../version.ts";
import type { RequestState } from "./middleware/request-context.ts";
import { readJsonBody } from "./read-json-body.ts";

/** A JSON Schema (the subset OpenAPI 3.1 and ajv's 2020-12 dialect share). */
export type Schema = Record<string, unknown>;

export interface RouteSpec {
  summary: string;
  description?: string;
  /** the query string: an object schema whose properties are the parameters (values arrive as strings) */
  query?: Schema;
  /** the JSON request body; absent = the route reads no body */
  body?: Schema;
  /** path parameters by name (`:id` in the key) */
  params?: Record<string, string>;
  /** the success answer */
  response: { status: number; description: string; schema?: Schema };
}

export type RouteKey = `${"GET" | "POST" | "PUT" | "PATCH" | "DELETE"} /${string}`;

const text = (description: string, extra: Schema = {}): Schema => ({
  type: "string",
  minLength: 1,
  description,
  ...extra,
});
const list = (description: string): Schema => ({
  type: "object",
  description,
  required: ["items", "next"],
  properties: {
    items: { type: "array", items: { type: "object" } },
    next: { type: ["string", "null"], description: "the cursor of the next page; null on the last" },
  },
});
const query = (properties: Record<string, Schema>): Schema => ({
  type: "object",
  additionalProperties: false,
  properties,
});
const CURSOR = text("the `next` of the previous page");
/** The recorded events a list, an export or a bulk replay means (server/events/event-filter.ts). */
const EVENT_FILTER: Record<string, Schema> = {
  type: text("an event type such as Hangup"),
  rule: text("a rule id the event matched"),
  status: { enum: ["ok", "failed", "pending"], description: "ok, failed or pending" },
  CallUUID: text("a call's CallUUID"),
  since: text("an ISO 8601 time such as 2025-01-06T10:00:00Z", { format: "date-time" }),
  until: text("an ISO 8601 time: events received up to then", { format: "date-time" }),
};

/**
 * Every JSON admin route. To add one: add its entry here (the key is the method and the path exactly as
 * the router sees it, prefix included), and mount `validateRequest` on its router after `adminAuth`.
 */
export const ADMIN_API: Record<RouteKey, RouteSpec> = {
  "GET /admin/openapi.json": {
    summary: "This document (OpenAPI 3.1)",
    response: { status: 200, description: "the OpenAPI document of the admin API" },
  },
  "GET /admin/rules": {
    summary: "The loaded ruleset's version, every rule, and the fleet's instances",
    response: { status: 200, description: "version, instance, instances, items (rules), next, warnings" },
  },
  "POST /admin/reload": {
    summary: "Reload the rules on every instance of the fleet (SPEC §4.5)",
    response: {
      status: 200,
      description:
        "the new version and each instance's report; 422 RULESET_INVALID with every located problem when refused",
    },
  },
  "POST /admin/evaluate": {
    summary: "Dry run: which rules match an event and what they would send; nothing is sent or stored",
    body: {
      type: "object",
      additionalProperties: false,
      required: ["path", "event"],
      properties: {
        path: text('a request path such as "/events" or "/answer/support"', { pattern: "^/" }),
        event: {
          type: "object",
          description: 'an object of payload fields, such as {"Event": "Hangup", "From": "919876543210"}',
        },
        at: text('an ISO 8601 time such as "2025-01-06T10:00:00Z"', { format: "date-time" }),
        query: {
          type: "object",
          additionalProperties: { type: "string" },
          description: 'an object of strings, such as {"app": "support"}',
        },
      },
    },
    response: {
      status: 200,
      description: "version, event, matched (with rendered actions), rules, reply, errors",
    },
  },
  "GET /admin/events": {
    summary: "Recent events, newest first, with filters and cursor pages",
    query: query({
      limit: { type: "integer", minimum: 1, maximum: 200, description: "a page size from 1 to 200 (50)" },
      type: text("an event type such as Hangup"),
      CallUUID: text("a call's CallUUID"),
      status: { enum: ["ok", "failed", "pending"], description: "ok, failed or pending" },
      rule: text("a rule id the event matched"),
      since: text("an ISO 8601 time such as 2025-01-06T10:00:00Z", { format: "date-time" }),
      until: text("an ISO 8601 time: events received up to then", { format: "date-time" }),
      cursor: text("the `next` of the previous page", { pattern: "^[0-9.]+:" }),
    }),
    response: { status: 200, description: "a page of events", schema: list("events, newest first") },
  },
  "GET /admin/events/export": {
    summary: "Recorded events as NDJSON (payload, path, query, receivedAt, the recorded decision), streamed",
    description: "The input of `switchboard backtest`; the same filters as the list.",
    query: query(EVENT_FILTER),
    response: { status: 200, description: "one JSON object per line (application/x-ndjson), newest first" },
  },
  "POST /admin/events/:id/replay": {
    summary: "Run a recorded event again under the current ruleset, as a new event linked to it",
    params: { id: "the event id (evt_…)" },
    body: {
      type: "object",
      additionalProperties: false,
      properties: {
        vobiz: { type: "boolean", description: "run its vobiz actions again too (real side effects; false)" },
      },
    },
    response: {
      status: 202,
      description: "the new event's id, replayOf and attempt; 404 NOT_FOUND past EVENT_RETENTION",
    },
  },
  "POST /admin/replays": {
    summary: "Replay every recorded event a filter selects, paced (REPLAY_RATE), or count them (dry_run)",
    body: {
      type: "object",
      additionalProperties: false,
      properties: {
        ...EVENT_FILTER,
        dry_run: { type: "boolean", description: "only say how many would run" },
        vobiz: { type: "boolean", description: "run their vobiz actions again too (false)" },
      },
    },
    response: {
      status: 202,
      description: "the bulk replay's id and progress; with dry_run, 200 and its count",
    },
  },
  "GET /admin/replays/:id": {
    summary: "A bulk replay's progress (total, done, failed, state)",
    params: { id: "the bulk replay's id (rpl_…)" },
    response: { status: 200, description: "the progress; 404 NOT_FOUND after 7 days" },
  },
  "GET /admin/events/:id": {
    summary: "One event's trace: payload, verification, matched rules, every action and attempt",
    params: { id: "the event id (evt_…)" },
    response: { status: 200, description: "the event's trace; 404 NOT_FOUND past EVENT_RETENTION" },
  },
  "GET /admin/dead-letters": {
    summary: "Deliveries that exhausted their attempts, newest first",
    query: query({
      limit: { type: "integer", minimum: 1, maximum: 500, description: "a page size from 1 to 500 (50)" },
      cursor: CURSOR,
      rule: text("a rule id"),
      host: text("a destination host"),
    }),
    response: {
      status: 200,
      description: "a page of dead letters",
      schema: list("dead letters, newest first"),
    },
  },
  "POST /admin/dead-letters/retry": {
    summary: "Retry every dead letter (optionally only those of a rule or a host)",
    body: {
      type: "object",
      additionalProperties: false,
      properties: {
        rule: text("a rule id"),
        host: text("a destination host"),
        include_unknown: {
          type: "boolean",
          description:
            "also retry vobiz actions whose outcome is unknown (they may have taken effect: a retry sends them again; false)",
        },
      },
    },
    response: {
      status: 202,
      description:
        "retried (how many), items (each letter's id and new job) and needing_decision (unknown vobiz outcomes left alone)",
    },
  },
  "POST /admin/dead-letters/:id/retry": {
    summary: "Retry one dead letter (a fresh job with all its attempts, the same Idempotency-Key)",
    params: { id: "the dead letter's id" },
    response: { status: 202, description: "the letter's id and its new job" },
  },
  "POST /api/calls": {
    summary: "Place a call through Vobiz with its events routed back here (SPEC §6.3)",
    description: 'Give exactly one of "flow" or "answer_url".',
    body: {
      type: "object",
      additionalProperties: false,
      required: ["from", "to"],
      properties: {
        from: text('the calling number, such as "+918040001234"'),
        to: text("the number to call"),
        flow: text('a path below /answer, such as "support" or "sales/callback"', {
          pattern: "^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$",
        }),
        answer_url: text("an http(s) URL", { pattern: "^https?://" }),
        status_url: text("an http(s) URL", { pattern: "^https?://" }),
        status_method: { enum: ["GET", "POST"], description: "GET or POST" },
        status_events: {
          type: "array",
          items: { type: "string" },
          description: 'a list of event types or aliases, such as ["Hangup", "call.failed"]',
        },
      },
    },
    response: { status: 201, description: "id and request_uuid" },
  },
};

// ajv-formats is CommonJS: its default export arrives wrapped under Node's ESM loader
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as unknown as (ajv: Ajv2020) => Ajv2020;
const ajv = addFormats(new Ajv2020({ allErrors: true, strict: true }));
// query values arrive as strings: "limit=5" is the integer 5
const queryAjv = addFormats(new Ajv2020({ allErrors: true, strict: true, coerceTypes: true }));

interface Validators {
  query?: ValidateFunction;
  body?: ValidateFunction;
}
const validators = new Map<string, Validators>();

function validatorsFor(key: RouteKey): Validators {
  let compiled = validators.get(key);
  if (compiled === undefined) {
    const spec: RouteSpec | undefined = ADMIN_API[key];
    compiled = {
      ...(spec?.query ? { query: queryAjv.compile(spec.query) } : {}),
      ...(spec?.body ? { body: ajv.compile(spec.body) } : {}),
    };
    validators.set(key, compiled);
  }
  return compiled;
}

export interface RequestProblem {
  in: "query" | "body";
  /** JSON pointer into the query object or the body */
  pointer: string;
  message: string;
}

/** The schema of the property a pointer names (one level: query parameters and body fields). */
function described(schema: Schema | undefined, pointer: string): string | undefined {
  const name = pointer.split("/")[1];
  const properties = schema?.properties as Record<string, Schema> | undefined;
  const property =
    name === undefined ? undefined : properties?.[name.replace(/~1/g, "/").replace(/~0/g, "~")];
  return typeof property?.description === "string" ? property.description : undefined;
}

function problemsOf(
  where: "query" | "body",
  errors: ErrorObject[],
  schema: Schema | undefined,
): RequestProblem[] {
  return errors.map((error) => {
    const escape = (name: string): string => name.replace(/~/g, "~0").replace(/\//g, "~1");
    let pointer = error.instancePath;
    let message = error.message ?? "is not allowed";
    if (error.keyword === "required") {
      pointer += `/${escape(String(error.params.missingProperty))}`;
      message = "is required";
    } else if (error.keyword === "additionalProperties") {
      pointer += `/${escape(String(error.params.additionalProperty))}`;
      const known = Object.keys((schema?.properties as Record<string, unknown> | undefined) ?? {});
      message = `is not a known ${where === "query" ? "parameter" : "field"} (known: ${known.join(", ") || "none"})`;
    }
    const description = error.keyword === "additionalProperties" ? undefined : described(schema, pointer);
    return { in: where, pointer, message: description ? `${message}: expected ${description}` : message };
  });
}

function refuse(where: "query" | "body", problems: RequestProblem[]): AppError {
  const lines = problems.map((p) => `${p.in} ${p.pointer || "/"} ${p.message}`);
  return new AppError(where === "query" ? "ADMIN_QUERY_INVALID" : "ADMIN_BODY_INVALID", lines.join("; "), {
    details: { errors: problems, problems: lines },
  });
}

/** The route a request matched on the router that runs this middleware, as an ADMIN_API key. */
function routeKey(ctx: { method: string; path: string; router?: Router }): RouteKey | undefined {
  const matched = ctx.router?.match(ctx.path, ctx.method).pathAndMethod ?? [];
  const route = matched.toReversed().find((layer) => layer.methods.length > 0);
  return route === undefined ? undefined : (`${ctx.method} ${route.path}` as RouteKey);
}

/**
 * Checks the query string and the JSON body against the route's ADMIN_API entry; 400
 * ADMIN_QUERY_INVALID / ADMIN_BODY_INVALID with each problem's pointer and message otherwise. Mount on
 * an admin router after adminAuth: `router.use(adminAuth(token), validateRequest)`. A route missing from
 * ADMIN_API passes unchecked here; test/integration/admin-openapi.test.ts names it.
 */
export const validateRequest: Middleware<RequestState> = async (ctx, next) => {
  const key = routeKey(ctx);
  const spec: RouteSpec | undefined = key === undefined ? undefined : ADMIN_API[key];
  if (key === undefined || spec === undefined) {
    await next(); // HEAD, or a route the test will name
    return;
  }
  const check = validatorsFor(key);
  if (check.query) {
    const copy: Record<string, unknown> = { ...ctx.query };
    if (!check.query(copy)) throw refuse("query", problemsOf("query", check.query.errors ?? [], spec.query));
  }
  if (check.body) {
    const body = await readJsonBody(ctx);
    if (!check.body(body)) throw refuse("body", problemsOf("body", check.body.errors ?? [], spec.body));
  }
  await next();
};

const ERROR_SCHEMA: Schema = {
  type: "object",
  required: ["code", "message"],
  properties: {
    code: { type: "string", description: "a stable code from docs/error-codes.md" },
    message: { type: "string" },
    errors: {
      type: "array",
      description: "for ADMIN_QUERY_INVALID and ADMIN_BODY_INVALID: each problem",
      items: {
        type: "object",
        required: ["in", "pointer", "message"],
        properties: {
          in: { enum: ["query", "body"] },
          pointer: { type: "string", description: "a JSON pointer into the query or the body" },
          message: { type: "string" },
        },
      },
    },
  },
};

/** `/admin/events/:id` → `/admin/events/{id}` */
export const openApiPath = (koaPath: string): string => koaPath.replace(/:([A-Za-z0-9_]+)/g, "{$1}");

/** The OpenAPI 3.1 document of every route in ADMIN_API. */
export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const errorResponse = (description: string): Record<string, unknown> => ({
    description,
    content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
  });
  for (const [key, spec] of Object.entries(ADMIN_API) as Array<[RouteKey, RouteSpec]>) {
    const [method = "", koaPath = ""] = key.split(" ");
    const parameters: Array<Record<string, unknown>> = [];
    for (const [name, description] of Object.entries(spec.params ?? {}))
      parameters.push({ name, in: "path", required: true, description, schema: { type: "string" } });
    const queryProperties = (spec.query?.properties ?? {}) as Record<string, Schema>;
    for (const [name, schema] of Object.entries(queryProperties)) {
      const { description, ...rest } = schema;
      parameters.push({ name, in: "query", required: false, description, schema: rest });
    }
    const responses: Record<string, unknown> = {
      [String(spec.response.status)]: {
        description: spec.response.description,
        content: { "application/json": { schema: spec.response.schema ?? { type: "object" } } },
      },
      "401": errorResponse("ADMIN_UNAUTHORIZED: no or a wrong bearer token"),
    };
    if (spec.query) responses["400"] = errorResponse("ADMIN_QUERY_INVALID: a query parameter is refused");
    if (spec.body)
      responses["400"] = errorResponse("ADMIN_BODY_INVALID / ADMIN_QUERY_INVALID: the request is refused");
    const operation: Record<string, unknown> = {
      operationId: `${method.toLowerCase()}${koaPath.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? "").toUpperCase())}`,
      summary: spec.summary,
      ...(spec.description ? { description: spec.description } : {}),
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(spec.body
        ? { requestBody: { required: true, content: { "application/json": { schema: spec.body } } } }
        : {}),
      responses,
    };
    (paths[openApiPath(koaPath)] ??= {})[method.toLowerCase()] = operation;
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Switchboard admin API",
      version: VERSION,
      description: "Every route needs `Authorization: Bearer <ADMIN_TOKEN>` (SPEC §7).",
    },
    jsonSchemaDialect: "https://json-schema.org/draft/2020-12/schema",
    security: [{ adminToken: [] }],
    components: {
      securitySchemes: { adminToken: { type: "http", scheme: "bearer" } },
      schemas: { Error: ERROR_SCHEMA },
    },
    paths,
  };
}
