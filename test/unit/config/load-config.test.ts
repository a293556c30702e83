import assert from "node:assert/strict";
import path from "node:path";
import { test } from "node:test";
import { loadConfig } from "../../../server/config/load-config.ts";
import { isAppError } from "../../../server/errors.ts";

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(isAppError(error));
    assert.equal(error.code, "CONFIG_INVALID");
    return error.details?.problems as string[];
  }
  assert.fail("expected CONFIG_INVALID");
}

test("defaults match the SPEC table", () => {
  const config = loadConfig({}, "/srv/sb");
  assert.equal(config.port, 3000);
  assert.equal(config.host, "0.0.0.0");
  assert.equal(config.publicUrl, "http://localhost:3000");
  assert.equal(config.redisUrl, undefined);
  assert.equal(config.rulesDir, path.resolve("/srv/sb/rules"));
  assert.equal(config.templatesDir, path.resolve("/srv/sb/templates"));
  assert.equal(config.vobiz.apiUrl, "https://api.vobiz.ai");
  assert.equal(config.signaturePolicy, "require");
  assert.equal(config.role, "all");
  assert.equal(config.logLevel, "info");
  assert.equal(config.defaultCountry, "IN");
  assert.equal(config.eventRetentionMs, 7 * 86_400_000);
  assert.equal(config.answerBudgetMs, 1500);
  assert.equal(config.adminTokenGenerated, true);
  assert.ok(config.adminToken.length >= 24);
});

test("worker concurrency: 50 event jobs and 4 times as many action jobs, each settable", () => {
  const defaults = loadConfig({}, "/srv/sb");
  assert.equal(defaults.workerConcurrency, 50);
  assert.equal(defaults.actionConcurrency, 200);
  assert.equal(loadConfig({ WORKER_CONCURRENCY: "10" }, "/srv/sb").actionConcurrency, 40);
  const set = loadConfig({ WORKER_CONCURRENCY: "10", ACTION_CONCURRENCY: "25" }, "/srv/sb");
  assert.deepEqual([set.workerConcurrency, set.actionConcurrency], [10, 25]);
  assert.throws(() => loadConfig({ ACTION_CONCURRENCY: "0" }, "/srv/sb"), /ACTION_CONCURRENCY/);
});

test("every problem is reported at once, one line each, naming the variable and what is allowed", () => {
  const problems = problemsOf({
    PORT: "abc",
    ROLE: "boss",
    EVENT_RETENTION: "a week",
    SIGNATURE_POLICY: "maybe",
  });
  assert.equal(problems.length, 4);
  assert.match(
    problems.find((p) => p.startsWith("PORT=")) ?? "",
    /PORT="abc" is not allowed: expected a TCP port/,
  );
  assert.match(
    problems.find((p) => p.startsWith("ROLE=")) ?? "",
    /ROLE="boss" is not allowed: expected all, web or worker/,
  );
  assert.match(
    problems.find((p) => p.startsWith("EVENT_RETENTION=")) ?? "",
    /expected a duration such as 7d/,
  );
  assert.match(problems.find((p) => p.startsWith("SIGNATURE_POLICY=")) ?? "", /expected require or off/);
});

test("the error message lists every problem for the start-up output", () => {
  try {
    loadConfig({ PORT: "abc", ROLE: "boss" });
    assert.fail("expected an error");
  } catch (error) {
    assert.ok(error instanceof Error);
    assert.match(error.message, /2 problem\(s\)/);
    assert.match(error.message, /PORT="abc"/);
    assert.match(error.message, /ROLE="boss"/);
  }
});

test("ports above 65535 are refused", () => {
  assert.equal(problemsOf({ PORT: "70000" }).length, 1);
});

test("durations, secrets and PUBLIC_URL are converted", () => {
  const config = loadConfig({
    PUBLIC_URL: "https://sb.example.com/vobiz/",
    ANSWER_BUDGET: "800ms",
    EVENT_RETENTION: "2h",
    SECRET_CRM_TOKEN: "s3cr3t",
    ADMIN_TOKEN: "0123456789abcdef",
  });
  assert.equal(config.publicUrl, "https://sb.example.com/vobiz");
  assert.equal(config.answerBudgetMs, 800);
  assert.equal(config.eventRetentionMs, 7_200_000);
  assert.deepEqual({ ...config.secrets }, { CRM_TOKEN: "s3cr3t" });
  assert.equal(config.adminTokenGenerated, false);
});

test("a PUBLIC_URL with a query, and a short ADMIN_TOKEN, are refused", () => {
  const problems = problemsOf({ PUBLIC_URL: "https://x.example.com/?a=1", ADMIN_TOKEN: "short" });
  assert.equal(problems.length, 2);
});

test("slow clients: the HTTP server's headers and request timeouts, 10 s and 30 s unless set", () => {
  assert.deepEqual({ ...loadConfig({}).http }, { headersTimeoutMs: 10_000, requestTimeoutMs: 30_000 });
  const set = loadConfig({ HTTP_HEADERS_TIMEOUT: "2s", HTTP_REQUEST_TIMEOUT: "1m" });
  assert.deepEqual({ ...set.http }, { headersTimeoutMs: 2000, requestTimeoutMs: 60_000 });
  assert.match(
    problemsOf({ HTTP_HEADERS_TIMEOUT: "soon" })[0] ?? "",
    /HTTP_HEADERS_TIMEOUT="soon" is not allowed: expected a duration such as 10s/,
  );
  assert.match(
    problemsOf({ HTTP_REQUEST_TIMEOUT: "0s" })[0] ?? "",
    /HTTP_REQUEST_TIMEOUT="0s" .*more than 0/,
  );
  assert.match(
    problemsOf({ HTTP_HEADERS_TIMEOUT: "40s" })[0] ?? "",
    /HTTP_HEADERS_TIMEOUT="40s" is longer than HTTP_REQUEST_TIMEOUT="30s".*at least as long/,
  );
});

test("the result is frozen", () => {
  const config = loadConfig({});
  assert.ok(Object.isFrozen(config));
  assert.ok(Object.isFrozen(config.vobiz));
  assert.ok(Object.isFrozen(config.http));
  assert.ok(Object.isFrozen(config.secrets));
  assert.throws(() => {
    (config as { port: number }).port = 1;
  }, TypeError);
});

test("empty values count as unset", () => {
  assert.equal(loadConfig({ PORT: "", REDIS_URL: "" }).port, 3000);
});

test("Redis high availability: Sentinels, auth, TLS and the replica acknowledgement are read and checked", () => {
  const defaults = loadConfig({}, "/srv/sb").redis;
  assert.equal(defaults.sentinels, undefined);
  assert.equal(defaults.minReplicas, 0);
  assert.equal(defaults.minReplicasTimeoutMs, 500);
  const set = loadConfig(
    {
      REDIS_SENTINELS: "10.0.0.1:26379,sentinel-b.internal:26380",
      REDIS_SENTINEL_NAME: "sb-primary",
      REDIS_SENTINEL_PASSWORD: "s3cret",
      REDIS_PASSWORD: "p4ss",
      REDIS_TLS: "true",
      REDIS_TLS_CA: "certs/ca.pem",
      REDIS_MIN_REPLICAS: "1",
      REDIS_MIN_REPLICAS_TIMEOUT: "250ms",
    },
    "/srv/sb",
  ).redis;
  assert.deepEqual(set.sentinels, [
    { host: "10.0.0.1", port: 26379 },
    { host: "sentinel-b.internal", port: 26380 },
  ]);
  assert.equal(set.sentinelName, "sb-primary");
  assert.equal(set.sentinelPassword, "s3cret");
  assert.equal(set.password, "p4ss");
  assert.equal(set.tls, true);
  assert.equal(set.tlsCaFile, path.resolve("/srv/sb/certs/ca.pem"));
  assert.deepEqual([set.minReplicas, set.minReplicasTimeoutMs], [1, 250]);

  const problems = problemsOf({
    REDIS_URL: "redis://r:6379",
    REDIS_SENTINELS: "r1:26379",
    REDIS_MIN_REPLICAS: "many",
    REDIS_MIN_REPLICAS_TIMEOUT: "2s",
  });
  assert.equal(problems.length, 3, problems.join("\n"));
  assert.match(problems.join("\n"), /REDIS_URL and REDIS_SENTINELS are both set/);
  assert.match(problems.join("\n"), /REDIS_MIN_REPLICAS="many" is not allowed: expected a whole number/);
  assert.match(
    problems.join("\n"),
    /REDIS_MIN_REPLICAS_TIMEOUT="2s" is not allowed: expected a duration under 1s/,
  );
  assert.match(problemsOf({ REDIS_SENTINELS: "r1" })[0] ?? "", /REDIS_SENTINELS="r1" is not allowed/);
});

test("alerts: off by default; ALERT_URL needs ALERT_SECRET; interval and signature rate settable", () => {
  const defaults = loadConfig({}, "/srv/sb");
  assert.deepEqual(defaults.alerts, {
    url: undefined,
    secret: undefined,
    intervalMs: 60_000,
    signatureFailuresPerMinute: 20,
  });
  assert.equal(defaults.buildCommit, undefined);
  const set = loadConfig({
    ALERT_URL: "https://hooks.slack.com/services/T0/B0/x",
    ALERT_SECRET: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    ALERT_INTERVAL: "5m",
    ALERT_SIGNATURE_FAILURES: "100",
    BUILD_COMMIT: "0123abc",
  });
  assert.equal(set.alerts.intervalMs, 300_000);
  assert.equal(set.alerts.signatureFailuresPerMinute, 100);
  assert.equal(set.buildCommit, "0123abc");
  const [problem] = problemsOf({ ALERT_URL: "https://alerts.example.com/hook" });
  assert.match(problem ?? "", /^ALERT_URL is set without ALERT_SECRET: .*whsec_/);
  assert.deepEqual(
    problemsOf({ ALERT_URL: "slack", ALERT_SECRET: "short", BUILD_COMMIT: "HEAD" }).sort((a, b) =>
      a.localeCompare(b),
    ),
    [
      'ALERT_URL="slack" is not allowed: expected an http(s) URL that receives operational alerts (Slack-compatible JSON)',
      'ALERT_SECRET="short" is not allowed: expected a Standard Webhooks secret such as whsec_<base64 of 24 or more random bytes>',
      'BUILD_COMMIT="HEAD" is not allowed: expected a git commit hash (7 to 64 lowercase hex digits)',
    ].sort((a, b) => a.localeCompare(b)),
  );
});
