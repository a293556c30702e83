import { DURATION_PATTERN } from "./duration.ts";

/**
 * The environment variables Switchboard reads (SPEC §1), as a JSON Schema over the raw strings.
 * Each property's description is what a person sees when the value is refused.
 */
export const ENV_SCHEMA = {
  type: "object",
  properties: {
    PORT: { type: "string", pattern: "^[0-9]{1,5}$", description: "a TCP port number, 0 to 65535" },
    HOST: { type: "string", minLength: 1, description: "a bind address such as 0.0.0.0 or 127.0.0.1" },
    PUBLIC_URL: {
      type: "string",
      pattern: "^https?://[^/?#\\s]+(/[^?#\\s]*)?$",
      description: "an http(s) origin with an optional path prefix and no query, e.g. https://sb.example.com",
    },
    REDIS_URL: {
      type: "string",
      pattern: "^rediss?://",
      description: "a redis:// or rediss:// URL (leave unset to run the embedded redis-server)",
    },
    REDIS_SENTINELS: {
      type: "string",
      pattern: "^[^\\s,:]+:[0-9]{1,5}(,[^\\s,:]+:[0-9]{1,5})*$",
      description: "Sentinel addresses as host:port,host:port (instead of REDIS_URL)",
    },
    REDIS_SENTINEL_NAME: {
      type: "string",
      pattern: "^[A-Za-z0-9_.-]{1,64}$",
      description: "the master group name the Sentinels monitor, such as mymaster",
    },
    REDIS_SENTINEL_USERNAME: { type: "string", minLength: 1, description: "the Sentinels' ACL user name" },
    REDIS_SENTINEL_PASSWORD: { type: "string", minLength: 1, description: "the Sentinels' password" },
    REDIS_USERNAME: { type: "string", minLength: 1, description: "the Redis ACL user name" },
    REDIS_PASSWORD: { type: "string", minLength: 1, description: "the Redis password" },
    REDIS_TLS: { enum: ["true", "false"], description: "true or false" },
    REDIS_SENTINEL_TLS: { enum: ["true", "false"], description: "true or false" },
    REDIS_TLS_CA: {
      type: "string",
      minLength: 1,
      description: "a PEM file of the certificate authorities to trust for Redis and Sentinel TLS",
    },
    REDIS_MIN_REPLICAS: {
      type: "string",
      pattern: "^[0-9]$",
      description: "a whole number from 0 to 9",
    },
    REDIS_MIN_REPLICAS_TIMEOUT: {
      type: "string",
      pattern: DURATION_PATTERN,
      description: "a duration under 1s such as 500ms",
    },
    REDIS_PREFIX: {
      type: "string",
      pattern: "^[A-Za-z0-9_{}:.-]{1,64}$",
      description: "a key prefix such as sb",
    },
    DATA_DIR: {
      type: "string",
      minLength: 1,
      description: "a directory for the embedded Redis and the journal",
    },
    RULES_DIR: { type: "string", minLength: 1, description: "a directory of rule files" },
    TEMPLATES_DIR: { type: "string", minLength: 1, description: "a directory of templates" },
    VOBIZ_AUTH_ID: {
      type: "string",
      pattern: "^(MA|SA)_[A-Za-z0-9]+$",
      description: "an account id like MA_XXXXXXXX",
    },
    VOBIZ_AUTH_TOKEN: { type: "string", minLength: 1, description: "the account auth token" },
    VOBIZ_AUTH_TOKEN_PREVIOUS: { type: "string", minLength: 1, description: "the previous auth token" },
    VOBIZ_PARENT_AUTH_TOKEN: { type: "string", minLength: 1, description: "the parent account auth token" },
    VOBIZ_API_URL: { type: "string", pattern: "^https?://[^\\s]+$", description: "an http(s) base URL" },
    SIGNATURE_POLICY: { enum: ["require", "off"], description: "require or off" },
    ADMIN_TOKEN: { type: "string", minLength: 16, description: "a bearer token of at least 16 characters" },
    ROLE: { enum: ["all", "web", "worker"], description: "all, web or worker" },
    LOG_LEVEL: {
      enum: ["fatal", "error", "warn", "info", "debug", "trace", "silent"],
      description: "fatal, error, warn, info, debug, trace or silent",
    },
    DEFAULT_COUNTRY: {
      type: "string",
      pattern: "^[A-Z]{2}$",
      description: "a two-letter country code such as IN",
    },
    EVENT_RETENTION: { type: "string", pattern: DURATION_PATTERN, description: "a duration such as 7d" },
    ANSWER_BUDGET: { type: "string", pattern: DURATION_PATTERN, description: "a duration such as 1500ms" },
    HTTP_HEADERS_TIMEOUT: {
      type: "string",
      pattern: DURATION_PATTERN,
      description: "a duration such as 10s (0 is not allowed)",
    },
    HTTP_REQUEST_TIMEOUT: {
      type: "string",
      pattern: DURATION_PATTERN,
      description: "a duration such as 30s (0 is not allowed)",
    },
    SHUTDOWN_TIMEOUT: { type: "string", pattern: DURATION_PATTERN, description: "a duration such as 10s" },
    JOB_LOCK_TIMEOUT: { type: "string", pattern: DURATION_PATTERN, description: "a duration such as 30s" },
    WORKER_CONCURRENCY: {
      type: "string",
      pattern: "^[1-9][0-9]{0,3}$",
      description: "a whole number from 1 to 9999",
    },
    ACTION_CONCURRENCY: {
      type: "string",
      pattern: "^[1-9][0-9]{0,3}$",
      description: "a whole number from 1 to 9999",
    },
    RULES_WATCH: { enum: ["true", "false"], description: "true or false" },
    BUILD_COMMIT: {
      type: "string",
      pattern: "^[0-9a-f]{7,64}$",
      description: "a git commit hash (7 to 64 lowercase hex digits)",
    },
    ALERT_URL: {
      type: "string",
      pattern: "^https?://[^\\s]+$",
      description: "an http(s) URL that receives operational alerts (Slack-compatible JSON)",
    },
    ALERT_SECRET: {
      type: "string",
      pattern: "^(whsec_)?[A-Za-z0-9+/]{16,}={0,2}$",
      description: "a Standard Webhooks secret such as whsec_<base64 of 24 or more random bytes>",
    },
    ALERT_INTERVAL: {
      type: "string",
      pattern: DURATION_PATTERN,
      description: "a duration such as 1m: at most one alert of each kind per interval",
    },
    ALERT_SIGNATURE_FAILURES: {
      type: "string",
      pattern: "^[1-9][0-9]{0,5}$",
      description: "a whole number from 1 to 999999: signature failures per minute that raise an alert",
    },
    REPLAY_RATE: {
      type: "string",
      pattern: "^[1-9][0-9]{0,4}$",
      description: "a whole number of replays per second from 1 to 99999",
    },
    VOBIZ_CPS: {
      type: "string",
      pattern: "^[1-9][0-9]{0,3}$",
      description: "a whole number of make_call requests per second, from 1 to 9999",
    },
    VOBIZ_CONCURRENCY: {
      type: "string",
      pattern: "^[1-9][0-9]{0,3}$",
      description: "a whole number from 1 to 9999",
    },
    VOBIZ_TIMEOUT: { type: "string", pattern: DURATION_PATTERN, description: "a duration such as 10s" },
  },
} as const;

export type EnvName = keyof typeof ENV_SCHEMA.properties;
