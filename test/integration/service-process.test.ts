import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { findFreePort } from "../../server/redis/find-free-port.ts";
import { ROOT, isRunning, startMainProcess, waitForStatus } from "../helpers/process.ts";

const dataDir = mkdtempSync(path.join(os.tmpdir(), "switchboard-process-"));
after(() => rmSync(dataDir, { recursive: true, force: true }));

test("with no REDIS_URL the service starts its own Redis, is ready, and SIGTERM leaves no child behind", async () => {
  const port = await findFreePort();
  const running = startMainProcess({
    PORT: String(port),
    HOST: "127.0.0.1",
    DATA_DIR: dataDir,
    LOG_LEVEL: "info",
  });
  try {
    const ready = await waitForStatus(`http://127.0.0.1:${port}/ready`, 200);
    const body = (await ready.json()) as { status: string; ruleset: { hash: string } };
    assert.equal(body.status, "ready");
    assert.match(body.ruleset.hash, /^[0-9a-f]{64}$/);
    const redisPid = Number(readFileSync(path.join(dataDir, "redis", "redis.pid"), "utf8"));
    assert.ok(isRunning(redisPid), "the embedded redis-server runs while the service runs");
    assert.match(running.output(), /admin token is:/, "a generated admin token is printed once");

    running.child.kill("SIGTERM");
    const { code } = await running.exited;
    assert.equal(code, 0, running.output());
    assert.equal(isRunning(redisPid), false, "the embedded redis-server stopped with the service");
    assert.match(running.output(), /"msg":"stopped"/);
  } finally {
    if (running.child.exitCode === null) running.child.kill("SIGKILL");
  }
});

test("a bad configuration stops the start with every problem named", async () => {
  const running = startMainProcess({ PORT: "abc", ROLE: "boss", DATA_DIR: dataDir });
  const { code } = await running.exited;
  assert.equal(code, 1);
  assert.match(running.output(), /PORT="abc" is not allowed/);
  assert.match(running.output(), /ROLE="boss" is not allowed: expected all, web or worker/);
});

test("invalid rule files stop the start with every problem listed by file and line", async () => {
  const running = startMainProcess({
    PORT: "0",
    DATA_DIR: dataDir,
    RULES_DIR: path.join(ROOT, "test/fixtures/rules/invalid"),
  });
  const { code } = await running.exited;
  assert.equal(code, 1);
  const output = running.output();
  assert.match(output, /RULESET_INVALID/);
  assert.match(output, /invalid\/RULE_SCHEMA\.json:6:\d+ RULE_SCHEMA at \/rules\/0\/actoins/);
  assert.match(output, /invalid\/RULE_UNKNOWN_OPERATION\.json:6:\d+ RULE_UNKNOWN_OPERATION/);
  assert.match(output, /invalid\/TEMPLATE_MISSING\.json:6:\d+ TEMPLATE_MISSING/);
});
