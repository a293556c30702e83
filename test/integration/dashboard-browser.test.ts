/**
 * The dashboard in a real headless browser (issue 17 item 3): Debian's chromium driven by playwright-core
 * (scripts/ensure-chromium.sh installs it), against the real service, real Redis and a real local HTTP
 * destination. Signs in, sees a sent event appear, opens its trace (an attacker's <script> in the payload
 * shown as text), retries a dead letter until the destination gets it, replays an event, and runs the
 * playground. Screenshots go to var/dashboard-screens/ (docs/dashboard.png is one of them).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { Redis } from "ioredis";
import { chromium, type Browser, type Page } from "playwright-core";
import { startHttpSink } from "../helpers/http-sink.ts";
import { scratchRuleset } from "../helpers/rules.ts";
import { TEST_ADMIN_TOKEN, startTestService } from "../helpers/service.ts";
import { traceAction } from "../helpers/traces.ts";
import { sendVobiz } from "../helpers/vobiz.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? whichChromium();
function whichChromium(): string {
  try {
    return execFileSync("sh", ["-c", "command -v chromium"], { encoding: "utf8" }).trim();
  } catch {
    return "";
  }
}
assert.ok(CHROMIUM !== "", "chromium is not installed: run `bash scripts/ensure-chromium.sh` as root");

const SCREENS = path.resolve(import.meta.dirname, "../../var/dashboard-screens");
mkdirSync(SCREENS, { recursive: true });

let destinationUp = false;
const sink = await startHttpSink((request) =>
  request.url.startsWith("/crm") || destinationUp ? { status: 200 } : { status: 503 },
);
const disk = await scratchRuleset({
  rules: {
    "dashboard.json": {
      rules: [
        {
          id: "crm.hangups",
          description: "every finished call goes to the CRM",
          when: { and: [{ "==": [{ var: "Event" }, "Hangup"] }, { "!=": [{ var: "Scenario" }, "down"] }] },
          actions: [{ type: "forward", url: `${sink.url}/crm`, body: "json" }],
        },
        {
          id: "billing.down",
          when: { "==": [{ var: "Scenario" }, "down"] },
          actions: [
            {
              type: "forward",
              url: `${sink.url}/billing`,
              retry: { attempts: 1, backoff: "fixed", delay: "50ms" },
            },
          ],
        },
      ],
    },
  },
});
const service = await startTestService(import.meta.url, {
  RULES_DIR: disk.rulesDir,
  TEMPLATES_DIR: disk.templatesDir,
});
const redis = new Redis(service.redisUrl);
const browser: Browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  // root in a container has no user namespace for chromium's sandbox
  args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
});
const page: Page = await browser.newPage({ viewport: { width: 1360, height: 1000 } });
const requestsFromPage: string[] = [];
page.on("request", (request) => requestsFromPage.push(request.url()));
const dialogs: string[] = [];
page.on("dialog", (dialog) => {
  dialogs.push(dialog.message());
  void dialog.dismiss();
});
test.after(async () => {
  await browser.close();
  await redis.quit();
});

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const RUN = process.pid;
const HOSTILE = "<script>window.__pwned = 1</script><img src=x onerror=alert(1)>";
const shot = (name: string): Promise<Buffer> =>
  page.screenshot({ path: path.join(SCREENS, `${name}.png`), fullPage: true });

async function send(fields: Record<string, string>): Promise<string> {
  const response = await sendVobiz(service.url, "/events", {
    Event: "Hangup",
    From: "919876543210",
    ...fields,
  });
  assert.equal(response.status, 200);
  return ((await response.json()) as { id: string }).id;
}

const callUuid = `call-${RUN}-ok`;
const sentId = await send({ CallUUID: callUuid, CallerName: HOSTILE, Duration: "42" });
const downId = await send({ CallUUID: `call-${RUN}-down`, Scenario: "down" });
const answered = await sendVobiz(service.url, "/answer/support", {
  Event: "StartApp",
  CallUUID: `call-${RUN}-answer`,
  From: "919876543210",
});
assert.equal(answered.status, 200);
const answerXml = await answered.text();
await until("the CRM forward to be delivered", async () => {
  const state = await traceAction(redis, service.prefix, sentId, "crm.hangups");
  return state?.state === "delivered" ? state : undefined;
});
await until("the billing forward to be dead-lettered", async () =>
  (await redis.exists(`${service.prefix}:dead:${downId}:billing.down:0`)) === 1 ? true : undefined,
);

test("signing in with ADMIN_TOKEN on the form opens the dashboard", async () => {
  await page.goto(`${service.url}/admin/`);
  assert.match(page.url(), /\/admin\/login$/);
  await page.fill("#token", "wrong-token");
  await page.click("button[type=submit]");
  await page.getByText("ADMIN_LOGIN_FAILED").waitFor();
  await page.fill("#token", TEST_ADMIN_TOKEN);
  await page.click("button[type=submit]");
  await page.waitForURL(/\/admin\/$/);
  const cookies = await page.context().cookies();
  const session = cookies.find((cookie) => cookie.name === "switchboard_admin");
  assert.ok(session, "the session cookie is set");
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, "Strict");
  assert.equal(await page.evaluate("document.cookie"), "", "the script cannot read it");
});

test("the sent event appears in the recent events, with its outcome; the overview shows the fleet", async () => {
  const row = page.locator("#event-rows tr", { hasText: callUuid });
  await row.waitFor();
  assert.match(await row.innerText(), /crm\.hangups/);
  assert.match(await row.innerText(), /ok/);
  assert.match(await page.locator("#instances").innerText(), /this one/);
  assert.match(await page.locator("#destinations").innerText(), /127\.0\.0\.1/);
  assert.ok((await page.locator("#per-minute svg rect").count()) > 0, "the chart has bars");
  await page.fill("#event-filters input[name=CallUUID]", callUuid);
  await page.click("#event-filters button[type=submit]");
  await until("the search to list that call's event alone", async () => {
    const rows = await page.locator("#event-rows tr").allInnerTexts();
    return rows.length === 1 && rows[0]?.includes(callUuid) ? true : undefined;
  });
  await page.fill("#event-filters input[name=CallUUID]", "");
  await page.click("#event-filters button[type=submit]");
  await page.locator("#event-rows tr", { hasText: `call-${RUN}-down` }).waitFor();
  // an event sent while the page is open shows up without a reload
  const live = await send({ CallUUID: `call-${RUN}-live` });
  await page.locator(`#event-rows tr[data-event="${live}"]`).waitFor();
  await shot("dashboard");
});

test("a trace opens with payload, verification, matched rules and attempts; the <script> in it stays text", async () => {
  await page.locator(`#event-rows tr[data-event="${sentId}"]`).getByRole("button", { name: "Trace" }).click();
  const trace = page.locator("#trace-body");
  await trace.getByText("Matched rules").waitFor();
  const text = await trace.innerText();
  assert.match(text, /crm\.hangups/);
  assert.match(text, /every finished call goes to the CRM/);
  assert.match(text, /verified/);
  assert.match(text, /delivered/);
  assert.match(text, new RegExp(`POST ${sink.url}/crm`.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")));
  assert.ok(text.includes(HOSTILE), "the hostile payload is shown as it is, as text");
  assert.equal(await page.evaluate("typeof window.__pwned"), "undefined", "the payload's script never ran");
  assert.equal(await page.locator("#trace-body script, #trace-body img").count(), 0);
  assert.deepEqual(dialogs, [], "no script ran");
  await shot("trace");
});

test("an /answer event's trace shows the XML reply it got", async () => {
  const row = page.locator("#event-rows tr", { hasText: `call-${RUN}-answer` });
  await row.getByRole("button", { name: "Trace" }).click();
  const xml = page.locator("#trace-body pre.xml");
  await xml.getByText("<Response>").waitFor();
  assert.equal((await xml.innerText()).trim(), answerXml.trim());
  assert.match(await page.locator("#trace-body").innerText(), /same ruleset that answered/);
});

test("a dead letter's Retry button sends it again, and the recovered destination gets it", async () => {
  const before = sink.requests.filter((r) => r.url.startsWith("/billing")).length;
  destinationUp = true;
  const row = page.locator(`tr[data-letter="${downId}:billing.down:0"]`);
  await row.getByRole("button", { name: "Retry" }).click();
  await row.getByText("sent again").waitFor();
  await until("the retried delivery to reach the destination", () =>
    sink.requests.filter((r) => r.url.startsWith("/billing")).length > before ? true : undefined,
  );
  await until("the dead letter's action to be delivered", async () => {
    const state = await traceAction(redis, service.prefix, downId, "billing.down");
    return state?.state === "delivered" ? state : undefined;
  });
});

// POST /admin/events/:id/replay is built on another branch: this step runs once the route exists
const replayProbe = await fetch(`${service.url}/admin/events/evt_none/replay`, {
  method: "POST",
  headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, "content-type": "application/json" },
  body: "{}",
});
const replayRoute = !(replayProbe.status === 404 && /No route/.test(await replayProbe.text()));

test("the Replay button replays the event and links the new one", { skip: !replayRoute }, async () => {
  await page.locator(`#event-rows tr[data-event="${sentId}"]`).getByRole("button", { name: "Trace" }).click();
  await page.locator("#trace-body").getByText("Matched rules").waitFor();
  const crmBefore = sink.requests.filter((r) => r.url.startsWith("/crm")).length;
  await page.click("#replay");
  const result = page.locator("#replay-result");
  await result.getByText("Replayed as").waitFor();
  const newId = (await result.locator("a").innerText()).trim();
  assert.match(newId, /^evt_/);
  assert.notEqual(newId, sentId);
  await until("the replay's forward to reach the CRM", () =>
    sink.requests.filter((r) => r.url.startsWith("/crm")).length > crmBefore ? true : undefined,
  );
  await result.locator("a").click();
  await page.locator("#trace-id", { hasText: newId }).waitFor();
  await page.locator("#trace-body").getByText(sentId).waitFor();
  await shot("replay");
});

test("the playground evaluates a recorded event: which rules match, each condition's value, what would be sent", async () => {
  await page
    .locator(`#event-rows tr[data-event="${sentId}"]`)
    .getByRole("button", { name: "Playground" })
    .click();
  assert.match(await page.inputValue("#playground-event"), new RegExp(callUuid));
  await page.click("#playground-form button[type=submit]");
  const result = page.locator("#playground-result");
  await result.getByText("Matched rules (1)").waitFor();
  const text = await result.innerText();
  assert.match(text, /crm\.hangups/);
  assert.match(
    text,
    new RegExp(`${sink.url}/crm`.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")),
    "the forward it would send",
  );
  assert.match(text, /billing\.down\s+not: when/, "the rule that does not match, and why");
  assert.match(text, /"Scenario"\}?.*→\s*null/s, "each condition with its value");
  // an edited event: the other rule matches instead
  await page.fill("#playground-event", JSON.stringify({ Event: "Hangup", Scenario: "down" }));
  await page.click("#playground-form button[type=submit]");
  await result.locator(".action", { hasText: "billing.down" }).waitFor();
  assert.match(await result.innerText(), /Matched rules \(1\)/i);
  assert.match(await result.innerText(), /crm\.hangups\s+not: when/);
  await shot("playground");
});

test("the Queues link opens bull-board with Switchboard's two queues, signed in by the same cookie", async () => {
  await page.click("nav >> text=Queues");
  await page.waitForURL(/\/admin\/queues/);
  await page.getByText("actions", { exact: true }).first().waitFor();
  await page.getByText("events", { exact: true }).first().waitFor();
  await shot("queues");
  await page.goto(`${service.url}/admin/`);
});

test("signing out ends the session: the page sends the browser back to the sign-in form", async () => {
  await page.click("nav >> text=Sign out");
  await page.waitForURL(/\/admin\/login$/);
  await page.goto(`${service.url}/admin/`);
  assert.match(page.url(), /\/admin\/login$/);
  const status = await page.evaluate("fetch('/admin/rules').then((r) => r.status)");
  assert.equal(status, 401);
});

test("the page asked nothing of any other host (no CDN, no web font)", () => {
  const elsewhere = requestsFromPage.filter((url) => !url.startsWith(service.url));
  assert.deepEqual(elsewhere, []);
});
