/**
 * The network commands of `switchboard` against a real running instance on the test Redis: send (signed
 * the Vobiz way, and a wrong token reported clearly), events (one line per event; --follow), and reload
 * (each instance's version, or the located problems).
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { rm } from "node:fs/promises";
import { createServer, type AddressInfo } from "node:net";
import path from "node:path";
import { test } from "node:test";
import { runCommand } from "../helpers/cli.ts";
import { REPO, scratchRuleset } from "../helpers/rules.ts";
import { TEST_ADMIN_TOKEN, TEST_AUTH_TOKEN, TEST_PUBLIC_URL, startTestService } from "../helpers/service.ts";

// the IVR alone: business hours would make replies depend on the clock, crm.json would call crm.example.com
const disk = await scratchRuleset({ ruleFiles: [path.join(REPO, "rules", "ivr.json")] });
const service = await startTestService(import.meta.url, {
  RULES_DIR: disk.rulesDir,
  TEMPLATES_DIR: disk.templatesDir,
});
const env = { VOBIZ_AUTH_TOKEN: TEST_AUTH_TOKEN, PUBLIC_URL: TEST_PUBLIC_URL, ADMIN_TOKEN: TEST_ADMIN_TOKEN };
const cli = (argv: string[], extra: Record<string, string> = {}) =>
  runCommand([...argv, "--url", service.url], { env: { ...env, ...extra } });

test("send signs a realistic Hangup for PUBLIC_URL + path; the event is stored and events lists it", async () => {
  const sent = await cli(["send", "/events", "--event", "Hangup", "CallUUID=cli-call-1", "Duration=0"]);
  assert.equal(sent.code, 0, sent.stdout + sent.stderr);
  assert.match(sent.stdout, /^POST http:\/\/127\.0\.0\.1:\d+\/events → 200$/m);
  const id = /"id":"(evt_[0-9A-Z]+)"/.exec(sent.stdout)?.[1];
  assert.ok(id, sent.stdout);
  const trace = (await (
    await fetch(`${service.url}/admin/events/${id}`, {
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
    })
  ).json()) as { payload: Record<string, string>; verification: { scheme?: string } };
  assert.equal(trace.payload.Event, "Hangup");
  assert.equal(trace.payload.CallUUID, "cli-call-1", "k=v overrides the sample");
  assert.equal(trace.payload.HangupCause, "NORMAL_CLEARING", "the sample is a realistic Vobiz hangup");
  const listed = await cli(["events", "--call", "cli-call-1"]);
  assert.equal(listed.code, 0, listed.stderr);
  const lines = listed.stdout.trim().split("\n");
  assert.equal(lines.length, 1);
  assert.match(lines[0] ?? "", /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d {2}Hangup +\/events +\(no rule\) {2}ok/);
  assert.ok(lines[0]?.endsWith(id));
});

test("send with a wrong VOBIZ_AUTH_TOKEN reports the 401 and what to check (exit 1)", async () => {
  const sent = await cli(["send", "/events", "--event", "Hangup"], { VOBIZ_AUTH_TOKEN: "not-the-token" });
  assert.equal(sent.code, 1);
  assert.match(sent.stdout, /→ 401$/m);
  assert.match(sent.stdout, /SIGNATURE_INVALID/);
  assert.match(sent.stderr, /did not accept the signature: VOBIZ_AUTH_TOKEN here must be the service's/);
  const elsewhere = await cli(["send", "/events", "--event", "Hangup"], {
    PUBLIC_URL: "https://other.example.com",
  });
  assert.equal(elsewhere.code, 1, "the signature covers PUBLIC_URL, so a different one is refused too");
  assert.match(
    elsewhere.stderr,
    /PUBLIC_URL here \(https:\/\/other\.example\.com\) must be the service's PUBLIC_URL/,
  );
});

test("send to an /answer path prints the XML reply", async () => {
  const sent = await cli(["send", "/answer/support", "--event", "StartApp"]);
  assert.equal(sent.code, 0);
  assert.match(sent.stdout, /<Gather action="https:\/\/sb\.example\.com\/answer\/support\/menu\?try=1"/);
});

test("events --follow prints new events as they arrive, until interrupted", async () => {
  const controller = new AbortController();
  let seen = "";
  const following = runCommand(
    ["events", "--follow", "--json", "--call", "cli-follow-1", "--url", service.url],
    {
      env,
      signal: controller.signal,
      onStdout: (all) => (seen = all),
    },
  );
  const deadline = Date.now() + 30_000;
  let sent = 0;
  while (!seen.includes("cli-follow-1")) {
    assert.ok(Date.now() < deadline, "the followed event never showed");
    if (sent === 0) {
      sent += 1;
      assert.equal((await cli(["send", "/events", "--event", "Ring", "CallUUID=cli-follow-1"])).code, 0);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  controller.abort();
  const run = await following;
  assert.equal(run.code, 0);
  const event = JSON.parse(run.stdout.trim().split("\n")[0] ?? "{}") as { type: string; path: string };
  assert.equal(event.type, "Ring");
  assert.equal(event.path, "/events");
});

test("reload prints each instance's version; a broken file is refused with its file:line (exit 1)", async () => {
  const ok = await cli(["reload"]);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /^ok {3}\S+ {2}[0-9a-f]{12} .*loaded \d{4}-/m);
  await disk.write(
    "rules/broken.json",
    '{\n  "rules": [\n    { "id": "x", "on": "Hangups", "actions": [{ "type": "forward", "url": "https://x.example.com/" }] }\n  ]\n}\n',
  );
  try {
    const refused = await cli(["reload"]);
    assert.equal(refused.code, 1);
    assert.match(refused.stdout, /^FAIL \S+ {2}still serving [0-9a-f]{12}/m);
    assert.match(refused.stdout, /rules\/broken\.json:3 RULE_UNKNOWN_EVENT .*did you mean "Hangup"/);
  } finally {
    await rm(path.join(disk.rulesDir, "broken.json"));
  }
});

test("reload and events need the service's ADMIN_TOKEN: missing is a usage error, wrong is a clear 401", async () => {
  const missing = await runCommand(["reload", "--url", service.url], {
    env: { VOBIZ_AUTH_TOKEN: TEST_AUTH_TOKEN },
  });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /set ADMIN_TOKEN/);
  const wrong = await cli(["events"], { ADMIN_TOKEN: "wrong-token-0123456789" });
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /401 ADMIN_UNAUTHORIZED: ADMIN_TOKEN here is not the service's admin token/);
});

test("a service that is not running is reported as such (exit 1)", async () => {
  const closed = createServer();
  closed.listen(0, "127.0.0.1");
  await once(closed, "listening");
  const { port } = closed.address() as AddressInfo;
  await new Promise((resolve) => closed.close(resolve));
  const run = await runCommand(["send", "/events", "--url", `http://127.0.0.1:${port}`], { env });
  assert.equal(run.code, 1);
  assert.ok(
    run.stderr.includes(`could not reach http://127.0.0.1:${port} (ECONNREFUSED); is Switchboard running`),
    run.stderr,
  );
});
