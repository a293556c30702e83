/**
 * `switchboard replay` and `switchboard backtest` against a real running instance on the test Redis:
 * replay prints the new event's id (linked to the original); backtest fetches the recorded events and
 * reports exactly the events a changed condition affects (and, with --base, a changed forward URL).
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { test } from "node:test";
import { runCommand } from "../helpers/cli.ts";
import { startHttpSink } from "../helpers/http-sink.ts";
import { scratchRuleset } from "../helpers/rules.ts";
import { TEST_ADMIN_TOKEN, TEST_AUTH_TOKEN, TEST_PUBLIC_URL, startTestService } from "../helpers/service.ts";
import { sendVobiz } from "../helpers/vobiz.ts";

const sink = await startHttpSink();
const rules = (threshold: number, url = `${sink.url}/long`): unknown => ({
  rules: [
    {
      id: "long-calls",
      on: "Hangup",
      when: { ">": [{ var: "Duration" }, threshold] },
      actions: [{ type: "forward", url: `${url}?call=<<CallUUID>>` }],
    },
    { id: "every-hangup", on: "Hangup", actions: [{ type: "forward", url: `${sink.url}/all` }] },
  ],
});
const live = await scratchRuleset({ rules: { "calls.json": rules(60) } });
const service = await startTestService(import.meta.url, {
  ROLE: "all",
  RULES_DIR: live.rulesDir,
  TEMPLATES_DIR: live.templatesDir,
});
const env = { VOBIZ_AUTH_TOKEN: TEST_AUTH_TOKEN, PUBLIC_URL: TEST_PUBLIC_URL, ADMIN_TOKEN: TEST_ADMIN_TOKEN };
const cli = (argv: string[]) => runCommand([...argv, "--url", service.url], { env });
const admin = async (route: string): Promise<Record<string, unknown>> =>
  (await (
    await fetch(`${service.url}${route}`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } })
  ).json()) as Record<string, unknown>;
async function until(what: string, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await probe())) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const durations = [0, 20, 45, 59, 61, 95, 300];
const sent = new Map<number, string>();
for (const duration of durations) {
  const response = await sendVobiz(service.url, "/events", {
    Event: "Hangup",
    CallUUID: `backtest-${process.pid}-${duration}`,
    Duration: String(duration),
  });
  assert.equal(response.status, 200);
  sent.set(duration, ((await response.json()) as { id: string }).id);
}
await until("every event decided", async () => {
  for (const id of sent.values())
    if ((await admin(`/admin/events/${id}`)).state !== "dispatched") return false;
  return true;
});

test("backtest reports exactly the events a changed condition affects, grouped by rule; exit 1 unless --allow-changes", async () => {
  const candidate = await scratchRuleset({ rules: { "calls.json": rules(30) } });
  const run = await cli(["backtest", candidate.rulesDir, "--since", "1h", "--json"]);
  assert.equal(run.code, 1, run.stderr);
  const report = JSON.parse(run.stdout) as {
    events: number;
    changes: Array<{ id: string; added: string[]; removed: string[] }>;
    byRule: Array<{ rule: string; added: string[]; removed: string[]; changed: string[] }>;
  };
  assert.equal(report.events, durations.length);
  assert.deepEqual(
    report.changes.map((change) => change.id).sort(),
    [sent.get(45), sent.get(59)].sort(),
    "exactly the calls between 30 and 60 seconds",
  );
  assert.deepEqual(report.byRule, [
    { rule: "long-calls", added: report.byRule[0]?.added ?? [], removed: [], changed: [] },
  ]);
  assert.deepEqual(report.byRule[0]?.added.sort(), [sent.get(45), sent.get(59)].sort());

  const text = await cli(["backtest", candidate.rulesDir, "--since", "1h"]);
  assert.equal(text.code, 1);
  assert.match(text.stdout, /^long-calls: now matches 2 \(/m);
  assert.match(text.stdout, /^2 of 7 decisions would change$/m);
  assert.ok(text.stdout.includes(`+ long-calls matches`));
  const allowed = await cli(["backtest", candidate.rulesDir, "--since", "1h", "--allow-changes"]);
  assert.equal(allowed.code, 0, "--allow-changes exits 0");

  const same = await cli(["backtest", live.rulesDir, "--since", "1h"]);
  assert.equal(same.code, 0, same.stdout);
  assert.match(same.stdout, /^0 of 7 decisions would change$/m);
});

test("backtest --base compares rendered forwards too: a changed URL is reported for the events it sends", async () => {
  const moved = await scratchRuleset({ rules: { "calls.json": rules(60, `${sink.url}/moved`) } });
  const run = await cli(["backtest", moved.rulesDir, "--base", live.rulesDir, "--since", "1h", "--json"]);
  assert.equal(run.code, 1, run.stderr);
  const report = JSON.parse(run.stdout) as {
    baseline: string;
    changes: Array<{ id: string; changed: string[] }>;
  };
  assert.equal(report.baseline, "base");
  assert.deepEqual(
    report.changes.map((change) => change.id).sort(),
    [sent.get(61), sent.get(95), sent.get(300)].sort(),
  );
  assert.ok(report.changes.every((change) => change.changed.join() === "long-calls"));
});

test("backtest with rules that do not load says so and compares nothing (exit 1)", async () => {
  const broken = await scratchRuleset();
  await writeFile(path.join(broken.rulesDir, "bad.json"), "{ not json");
  const run = await cli(["backtest", broken.rulesDir, "--since", "1h"]);
  assert.equal(run.code, 1);
  assert.match(run.stdout, /bad\.json:1:\d+ RULE_JSON_SYNTAX/);
  assert.match(run.stdout, /the rules do not load/);
});

test("replay prints the new event's id; the instance links it to the original", async () => {
  const original = sent.get(95) ?? "";
  const run = await cli(["replay", original]);
  assert.equal(run.code, 0, run.stderr);
  const id = run.stdout.trim();
  assert.match(id, /^evt_[0-9A-Z]{26}$/);
  const view = await admin(`/admin/events/${id}`);
  assert.equal(view.replayOf, original);
  assert.deepEqual((await admin(`/admin/events/${original}`)).replays, [id]);
  const missing = await cli(["replay", "evt_01HZZZZZZZZZZZZZZZZZZZZZZZ"]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /404 NOT_FOUND/);
  const usage = await runCommand(["replay"], { env });
  assert.equal(usage.code, 2);
});
