/**
 * One error contract: every error a user can see has a stable code from this catalogue, an HTTP status,
 * and whether its message may reach the client (`expose`). docs/error-codes.md lists the same codes;
 * test/unit/errors.test.ts keeps the two in sync.
 */
export const ERROR_CATALOGUE = {
  // start-up
  CONFIG_INVALID: { status: 500, expose: false, message: "The configuration is invalid." },
  REDIS_MISSING: {
    status: 500,
    expose: false,
    message: "redis-server is not installed and REDIS_URL is not set.",
  },
  REDIS_UNREACHABLE: { status: 500, expose: false, message: "Redis could not be reached at start-up." },
  REDIS_EVICTION_POLICY: {
    status: 500,
    expose: false,
    message: "Redis must run with maxmemory-policy noeviction.",
  },
  // HTTP: routing and bodies
  NOT_FOUND: { status: 404, expose: true, message: "No route matches this path." },
  METHOD_NOT_ALLOWED: { status: 405, expose: true, message: "This route does not accept that method." },
  BODY_TOO_LARGE: { status: 413, expose: true, message: "The request body is over 64 KiB." },
  UNSUPPORTED_CONTENT_TYPE: {
    status: 415,
    expose: true,
    message: "Send application/x-www-form-urlencoded or application/json (UTF-8).",
  },
  BODY_MALFORMED: { status: 400, expose: true, message: "The request body could not be parsed." },
  BODY_NOT_OBJECT: { status: 400, expose: true, message: "A JSON body must be an object at the top level." },
  TOO_MANY_FIELDS: { status: 400, expose: true, message: "The payload has more than 500 fields." },
  FIELD_NAME_TOO_LONG: { status: 400, expose: true, message: "A field name is longer than 256 characters." },
  BODY_TOO_DEEP: { status: 400, expose: true, message: "The JSON body is nested deeper than 20 levels." },
  // HTTP: signatures and durability
  SIGNATURE_MISSING: {
    status: 401,
    expose: true,
    message: "The request carries no Vobiz signature headers.",
  },
  SIGNATURE_INVALID: { status: 401, expose: true, message: "The Vobiz signature does not verify." },
  SIGNATURE_REPLAYED: {
    status: 401,
    expose: true,
    message: "This signature nonce was already used with a different body.",
  },
  QUEUE_UNAVAILABLE: { status: 503, expose: true, message: "The event store is unavailable; retry later." },
  // admin
  ADMIN_UNAUTHORIZED: {
    status: 401,
    expose: true,
    message: "Send the admin token as 'Authorization: Bearer <ADMIN_TOKEN>'.",
  },
  ADMIN_CSRF_REFUSED: {
    status: 403,
    expose: true,
    message:
      "A request signed in by the dashboard's cookie must come from the dashboard's own pages; scripts use 'Authorization: Bearer <ADMIN_TOKEN>'.",
  },
  ADMIN_LOGIN_FAILED: {
    status: 401,
    expose: true,
    message: "That is not the ADMIN_TOKEN this service was started with; paste it again.",
  },
  ADMIN_BODY_INVALID: {
    status: 400,
    expose: true,
    message: "The request body does not have the fields this admin route needs.",
  },
  RULESET_INVALID: {
    status: 422,
    expose: true,
    message: "The rule files or templates have problems; nothing was changed.",
  },
  VOBIZ_NOT_CONFIGURED: {
    status: 503,
    expose: true,
    message: "Set VOBIZ_AUTH_ID and VOBIZ_AUTH_TOKEN to place calls through Vobiz.",
  },
  VOBIZ_API_ERROR: {
    status: 502,
    expose: true,
    message: "The Vobiz API refused the request or could not be reached.",
  },
  ADMIN_QUERY_INVALID: {
    status: 400,
    expose: true,
    message: "A query parameter of this admin route is unknown or has the wrong kind of value.",
  },
  EVENT_NOT_REPLAYABLE: {
    status: 409,
    expose: true,
    message: "This event's trace keeps only a redacted copy (it held secret values); it cannot be replayed.",
  },
  // anything else
  INTERNAL_ERROR: { status: 500, expose: false, message: "Internal error; the request id is in the logs." },
} as const satisfies Record<string, { status: number; expose: boolean; message: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export interface AppErrorOptions {
  details?: Record<string, unknown>;
  cause?: unknown;
  /** extra response headers, such as Retry-After */
  headers?: Record<string, string>;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly expose: boolean;
  readonly details: Record<string, unknown> | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(code: ErrorCode, message?: string, options: AppErrorOptions = {}) {
    const entry = ERROR_CATALOGUE[code];
    super(message ?? entry.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "AppError";
    this.code = code;
    this.status = entry.status;
    this.expose = entry.expose;
    this.details = options.details;
    this.headers = options.headers;
  }
}

export function isAppError(value: unknown): value is AppError {
  return value instanceof AppError;
}
