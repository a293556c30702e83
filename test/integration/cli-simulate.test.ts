/**
 * `switchboard simulate` plays whole calls against a real running instance of the example IVR: it follows
 * the XML like Vobiz (Gather → digits, Dial → its action, Record → action and callback, then the hangup),
 * signs every request, keeps one CallUUID, and stops clearly on a fallback reply or a loop.
 */
import assert from "node:assert/strict";
import path from "node:path";
import { test } from "node:test";
import type { Transcript } from "../../server/cli/simulate-call.ts";
import { runCommand } from "../helpers/cli.ts";
import { REPO, scratchRuleset } from "../helpers/rules.ts";
import { TEST_ADMIN_TOKEN, TEST_AUTH_TOKEN, TEST_PUBLIC_URL, startTestService } from "../helpers/service.ts";

// the IVR alone: business hours would make the welcome depend on the clock; crm.json would call crm.example.com
const disk = await scratchRuleset({
  ruleFiles: [path.join(REPO, "rules", "ivr.json")],
  rules: {
    "broken-flows.json": {
      rules: [
        {
          id: "needs-name",
          path: "/answer/needs-name",
          actions: [{ type: "respond", xml: "<Response><Speak>Hello <<CustomerName>></Speak></Response>" }],
          tests: [
            {
              path: "/answer/needs-name",
              event: { CustomerName: "Asha" },
              expect: { xml_contains: "Hello Asha" },
            },
          ],
        },
        {
          id: "loop",
          path: "/answer/loop",
          actions: [
            {
              type: "respond",
              xml: "<Response><Redirect><<meta.public_url>>/answer/loop</Redirect></Response>",
            },
          ],
          tests: [{ path: "/answer/loop", event: {}, expect: { xml_contains: "/answer/loop" } }],
        },
      ],
    },
  },
});
const service = await startTestService(import.meta.url, {
  RULES_DIR: disk.rulesDir,
  TEMPLATES_DIR: disk.templatesDir,
});
const env = { VOBIZ_AUTH_TOKEN: TEST_AUTH_TOKEN, PUBLIC_URL: TEST_PUBLIC_URL, ADMIN_TOKEN: TEST_ADMIN_TOKEN };

async function simulate(...argv: string[]): Promise<{ code: number; transcript: Transcript }> {
  const run = await runCommand(["simulate", ...argv, "--json", "--url", service.url], { env });
  return { code: run.code, transcript: JSON.parse(run.stdout) as Transcript };
}

const answers = (transcript: Transcript) =>
  transcript.steps.filter((step) => step.request.path.startsWith("/answer"));

test("simulate --digits 1 reaches the sales <Dial>, then its action, then the hangup, all signed, one CallUUID", async () => {
  const { code, transcript } = await simulate("support", "--digits", "1");
  assert.equal(code, 0, JSON.stringify(transcript.ended));
  assert.deepEqual(
    transcript.steps.map((step) => [step.request.path, step.status, step.reply]),
    [
      ["/answer/support", 200, "rule ivr.welcome"],
      ["/answer/support/menu?try=1", 200, "rule ivr.sales"],
      ["/answer/support/sales-result", 200, "rule ivr.sales-result"],
      ["/events", 200, ""],
    ],
  );
  assert.match(transcript.steps[1]?.xml ?? "", /<Dial callerId="\+918040001234"/);
  assert.ok(transcript.steps[1]?.hears.includes('"Connecting you to sales."'));
  assert.equal(transcript.steps[1]?.request.fields.Digits, "1");
  assert.equal(transcript.steps[2]?.request.fields.DialStatus, "completed");
  assert.equal(transcript.steps[3]?.request.fields.Event, "Hangup");
  assert.equal(transcript.steps[3]?.request.fields.Duration, "95");
  const uuids = new Set(transcript.steps.map((step) => step.request.fields.CallUUID));
  assert.deepEqual([...uuids], [transcript.call.CallUUID]);
  // the service verified and recorded every request of the call
  const listed = await runCommand(
    ["events", "--call", transcript.call.CallUUID, "--json", "--url", service.url],
    { env },
  );
  const types = listed.stdout
    .trim()
    .split("\n")
    .map((line) => (JSON.parse(line) as { type: string }).type);
  assert.deepEqual(types, ["StartApp", "Gather", "DialAction", "Hangup"]);
});

test("simulate --digits 9,9 hears the menu twice and reaches goodbye", async () => {
  const { code, transcript } = await simulate("/answer/support", "--digits", "9,9", "--duration", "12");
  assert.equal(code, 0);
  assert.deepEqual(
    answers(transcript).map((step) => step.reply),
    ["rule ivr.welcome", "rule ivr.invalid-once", "rule ivr.invalid-twice"],
  );
  assert.ok(answers(transcript).at(-1)?.hears.includes('"We did not get a valid choice. Goodbye."'));
  assert.equal(transcript.ended.how, "the reply hung up");
  assert.equal(transcript.steps.at(-1)?.request.fields.Duration, "12");
});

test("a busy sales line takes a voicemail: the <Record> action and its RecordStop callback are sent", async () => {
  const { code, transcript } = await simulate(
    "support",
    "--digits",
    "1",
    "--dial-status",
    "busy",
    "--no-hangup",
  );
  assert.equal(code, 0);
  assert.deepEqual(
    transcript.steps.map((step) => step.request.path),
    [
      "/answer/support",
      "/answer/support/menu?try=1",
      "/answer/support/sales-result",
      "/answer/support/voicemail-started",
      "/events/voicemail",
    ],
  );
  assert.equal(transcript.steps.at(-1)?.request.fields.Event, "RecordStop");
});

test("simulate stops with a clear message on a fallback reply and on a loop (exit 1)", async () => {
  const fallback = await simulate("needs-name");
  assert.equal(fallback.code, 1);
  assert.match(fallback.transcript.ended.how, /fallback reply \(fallback; /);
  const loop = await simulate("loop");
  assert.equal(loop.code, 1);
  assert.match(loop.transcript.ended.how, /^loop: \/answer\/loop was requested 3 times with the same input$/);
});

test("the text transcript shows each request, the rule that answered, the XML and what the caller hears", async () => {
  const run = await runCommand(["simulate", "support", "--digits", "2", "--url", service.url], { env });
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.match(run.stdout, /^1\. POST \/answer\/support {2}StartApp/m);
  assert.match(run.stdout, /^ {3}← 200 rule ivr\.welcome$/m);
  assert.match(
    run.stdout,
    /^ {3}\| {5}<Gather action="https:\/\/sb\.example\.com\/answer\/support\/menu\?try=1"/m,
  );
  assert.match(run.stdout, /caller hears "Connecting you to support\. Please hold\."/);
  assert.match(run.stdout, /caller hears \[joins conference "support-/);
  assert.match(run.stdout, /^ended: call [0-9a-f-]{36}: in conference/m);
});
