import { randomBytes } from "node:crypto";
import path from "node:path";
import { Ajv } from "ajv";
import { AppError } from "../errors.ts";
import { ENV_SCHEMA, type EnvName } from "./config-schema.ts";
import { parseDuration } from "./duration.ts";

export type Role = "all" | "web" | "worker";

export interface Config {
  port: number;
  host: string;
  publicUrl: string;
  /** undefined = start the embedded redis-server */
  redisUrl: string | undefined;
  /** Sentinel, authentication, TLS and replica-acknowledgement settings (README "Redis in production") */
  redis: RedisSettings;
  redisPrefix: string;
  dataDir: string;
  rulesDir: string;
  templatesDir: string;
  vobiz: {
    authId: string | undefined;
    authToken: string | undefined;
    authTokenPrevious: string | undefined;
    parentAuthToken: string | undefined;
    apiUrl: string;
    /** VOBIZ_CPS: make_call requests per second, fleet-wide (a token bucket in Redis) */
    cps: number;
    /** VOBIZ_CONCURRENCY: vobiz actions at once per process, apart from ACTION_CONCURRENCY's forwards */
    concurrency: number;
    /** VOBIZ_TIMEOUT: one Vobiz request, connecting to the whole answer */
    timeoutMs: number;
  };
  signaturePolicy: "require" | "off";
  adminToken: string;
  /** true when ADMIN_TOKEN was not set and a random one was made for this process */
  adminTokenGenerated: boolean;
  role: Role;
  logLevel: string;
  defaultCountry: string;
  eventRetentionMs: number;
  answerBudgetMs: number;
  /** slow clients: how long the HTTP server waits for a request's head, and for the whole request */
  http: { headersTimeoutMs: number; requestTimeoutMs: number };
  shutdownTimeoutMs: number;
  workerConcurrency: number;
  /** action jobs (deliveries) one worker process runs at once */
  actionConcurrency: number;
  /** how long a job stays claimed by a worker that stopped answering before another worker takes it */
  jobLockMs: number;
  rulesWatch: boolean;
  /** BUILD_COMMIT: the commit switchboard_build_info reports (else git rev-parse at start) */
  buildCommit: string | undefined;
  /** operational alerts (docs/operations.md "Alerts"); url undefined = none are sent */
  alerts: AlertSettings;
  /** bulk replays run per second, fleet-wide (REPLAY_RATE) */
  replayRate: number;
  /** SECRET_<NAME> variables, by NAME */
  secrets: Readonly<Record<string, string>>;
}

export interface RedisSettings {
  /** set = find the primary through these Sentinels (REDIS_URL is then unset) */
  sentinels: ReadonlyArray<{ host: string; port: number }> | undefined;
  sentinelName: string;
  sentinelUsername: string | undefined;
  sentinelPassword: string | undefined;
  username: string | undefined;
  password: string | undefined;
  tls: boolean;
  sentinelTls: boolean;
  /** path of a PEM file of trusted certificate authorities */
  tlsCaFile: string | undefined;
  /** /events answers 200 only once this many replicas have the event (Redis WAIT); 0 = do not wait */
  minReplicas: number;
  /** how long WAIT waits for them before the request is answered 503 */
  minReplicasTimeoutMs: number;
}

export interface AlertSettings {
  url: string | undefined;
  /** the Standard Webhooks secret the alerts are signed with (required with url) */
  secret: string | undefined;
  /** at most one alert of each kind per interval; the others are counted in the next one */
  intervalMs: number;
  /** signature failures in one minute (one process) that raise a signature_failures alert */
  signatureFailuresPerMinute: number;
}

type Env = Readonly<Record<string, string | undefined>>;

const ajv = new Ajv({ allErrors: true, strict: true });
const validateEnv = ajv.compile(ENV_SCHEMA);

/**
 * Reads, validates and freezes the configuration. Every problem is reported at once, one line each,
 * in a CONFIG_INVALID error (details.problems).
 */
export function loadConfig(env: Env, cwd = process.cwd()): Readonly<Config> {
  const known: Partial<Record<EnvName, string>> = {};
  for (const name of Object.keys(ENV_SCHEMA.properties) as EnvName[]) {
    const value = env[name];
    if (value !== undefined && value !== "") known[name] = value;
  }
  const problems: string[] = [];
  if (!validateEnv(known)) {
    for (const error of validateEnv.errors ?? []) {
      const name = error.instancePath.slice(1) as EnvName;
      const spec = ENV_SCHEMA.properties[name];
      problems.push(`${name}=${JSON.stringify(known[name])} is not allowed: expected ${spec.description}`);
    }
  }
  const port = known.PORT === undefined ? 3000 : Number(known.PORT);
  if (known.PORT !== undefined && !problems.some((p) => p.startsWith("PORT=")) && port > 65535) {
    problems.push(
      `PORT=${JSON.stringify(known.PORT)} is not allowed: expected ${ENV_SCHEMA.properties.PORT.description}`,
    );
  }
  if (known.REDIS_URL !== undefined && known.REDIS_SENTINELS !== undefined) {
    problems.push(
      "REDIS_URL and REDIS_SENTINELS are both set: set REDIS_URL for one Redis, or REDIS_SENTINELS (and " +
        "REDIS_SENTINEL_NAME) to find the primary through Sentinel, not both",
    );
  }
  const minReplicasTimeoutMs = parseDuration(known.REDIS_MIN_REPLICAS_TIMEOUT ?? "500ms") ?? 0;
  const timeoutRefused = problems.some((problem) => problem.startsWith("REDIS_MIN_REPLICAS_TIMEOUT="));
  if (!timeoutRefused && (minReplicasTimeoutMs < 1 || minReplicasTimeoutMs >= 1000)) {
    problems.push(
      `REDIS_MIN_REPLICAS_TIMEOUT=${JSON.stringify(known.REDIS_MIN_REPLICAS_TIMEOUT)} is not allowed: expected ` +
        `${ENV_SCHEMA.properties.REDIS_MIN_REPLICAS_TIMEOUT.description} (a request's Redis commands time out after 1s)`,
    );
  }
  const secrets: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith("SECRET_") || value === undefined) continue;
    const key = name.slice("SECRET_".length);
    if (!/^[A-Za-z0-9_]+$/.test(key)) {
      problems.push(`${name} is not allowed: secret names are letters, digits and underscores after SECRET_`);
    } else {
      secrets[key] = value;
    }
  }
  const headersTimeout = parseDuration(known.HTTP_HEADERS_TIMEOUT ?? "10s");
  const requestTimeout = parseDuration(known.HTTP_REQUEST_TIMEOUT ?? "30s");
  for (const [name, ms] of [
    ["HTTP_HEADERS_TIMEOUT", headersTimeout],
    ["HTTP_REQUEST_TIMEOUT", requestTimeout],
  ] as const) {
    if (ms === 0)
      problems.push(`${name}=${JSON.stringify(known[name])} is not allowed: expected more than 0`);
  }
  if (headersTimeout !== undefined && requestTimeout !== undefined && headersTimeout > requestTimeout) {
    problems.push(
      `HTTP_HEADERS_TIMEOUT=${JSON.stringify(known.HTTP_HEADERS_TIMEOUT ?? "10s")} is longer than HTTP_REQUEST_TIMEOUT=${JSON.stringify(known.HTTP_REQUEST_TIMEOUT ?? "30s")}: the request head is part of the request; make HTTP_REQUEST_TIMEOUT at least as long`,
    );
  }
  if (known.ALERT_URL !== undefined && known.ALERT_SECRET === undefined) {
    problems.push(
      "ALERT_URL is set without ALERT_SECRET: alerts are signed the Standard Webhooks way; set ALERT_SECRET " +
        "to a whsec_<base64> secret (e.g. whsec_$(openssl rand -base64 32))",
    );
  }
  if (problems.length > 0) {
    throw new AppError(
      "CONFIG_INVALID",
      `The configuration has ${problems.length} problem(s):\n  ${problems.join("\n  ")}`,
      {
        details: { problems },
      },
    );
  }
  const duration = (name: EnvName, fallback: string): number => parseDuration(known[name] ?? fallback) ?? 0;
  const resolveDir = (name: EnvName, fallback: string): string => path.resolve(cwd, known[name] ?? fallback);
  const workerConcurrency = known.WORKER_CONCURRENCY === undefined ? 50 : Number(known.WORKER_CONCURRENCY);
  const config: Config = {
    port,
    host: known.HOST ?? "0.0.0.0",
    publicUrl: (known.PUBLIC_URL ?? `http://localhost:${port}`).replace(/\/+$/, ""),
    redisUrl: known.REDIS_URL,
    redis: {
      sentinels: known.REDIS_SENTINELS?.split(",").map((address) => {
        const at = address.lastIndexOf(":");
        return { host: address.slice(0, at), port: Number(address.slice(at + 1)) };
      }),
      sentinelName: known.REDIS_SENTINEL_NAME ?? "mymaster",
      sentinelUsername: known.REDIS_SENTINEL_USERNAME,
      sentinelPassword: known.REDIS_SENTINEL_PASSWORD,
      username: known.REDIS_USERNAME,
      password: known.REDIS_PASSWORD,
      tls: known.REDIS_TLS === "true",
      sentinelTls: known.REDIS_SENTINEL_TLS === "true",
      tlsCaFile: known.REDIS_TLS_CA === undefined ? undefined : path.resolve(cwd, known.REDIS_TLS_CA),
      minReplicas: Number(known.REDIS_MIN_REPLICAS ?? "0"),
      minReplicasTimeoutMs,
    },
    redisPrefix: known.REDIS_PREFIX ?? "sb",
    dataDir: resolveDir("DATA_DIR", "var"),
    rulesDir: resolveDir("RULES_DIR", "rules"),
    templatesDir: resolveDir("TEMPLATES_DIR", "templates"),
    vobiz: {
      authId: known.VOBIZ_AUTH_ID,
      authToken: known.VOBIZ_AUTH_TOKEN,
      authTokenPrevious: known.VOBIZ_AUTH_TOKEN_PREVIOUS,
      parentAuthToken: known.VOBIZ_PARENT_AUTH_TOKEN,
      apiUrl: (known.VOBIZ_API_URL ?? "https://api.vobiz.ai").replace(/\/+$/, ""),
      cps: Number(known.VOBIZ_CPS ?? "10"),
      concurrency: Number(known.VOBIZ_CONCURRENCY ?? "10"),
      timeoutMs: duration("VOBIZ_TIMEOUT", "10s") || 10_000,
    },
    signaturePolicy: (known.SIGNATURE_POLICY ?? "require") as Config["signaturePolicy"],
    adminToken: known.ADMIN_TOKEN ?? randomBytes(24).toString("base64url"),
    adminTokenGenerated: known.ADMIN_TOKEN === undefined,
    role: (known.ROLE ?? "all") as Role,
    logLevel: known.LOG_LEVEL ?? "info",
    defaultCountry: known.DEFAULT_COUNTRY ?? "IN",
    eventRetentionMs: duration("EVENT_RETENTION", "7d"),
    answerBudgetMs: duration("ANSWER_BUDGET", "1500ms"),
    http: {
      headersTimeoutMs: duration("HTTP_HEADERS_TIMEOUT", "10s"),
      requestTimeoutMs: duration("HTTP_REQUEST_TIMEOUT", "30s"),
    },
    shutdownTimeoutMs: duration("SHUTDOWN_TIMEOUT", "10s"),
    workerConcurrency,
    actionConcurrency:
      known.ACTION_CONCURRENCY === undefined ? workerConcurrency * 4 : Number(known.ACTION_CONCURRENCY),
    jobLockMs: duration("JOB_LOCK_TIMEOUT", "30s"),
    rulesWatch: known.RULES_WATCH === "true",
    buildCommit: known.BUILD_COMMIT,
    alerts: {
      url: known.ALERT_URL,
      secret: known.ALERT_SECRET,
      intervalMs: duration("ALERT_INTERVAL", "1m"),
      signatureFailuresPerMinute: Number(known.ALERT_SIGNATURE_FAILURES ?? "20"),
    },
    replayRate: Number(known.REPLAY_RATE ?? "50"),
    secrets: Object.freeze(secrets),
  };
  Object.freeze(config.vobiz);
  Object.freeze(config.http);
  Object.freeze(config.redis);
  Object.freeze(config.alerts);
  return Object.freeze(config);
}
