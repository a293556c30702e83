/**
 * The seed documents end to end: their configuration pasted into a rule file (hosts pointed at a local
 * server), their example requests sent signed to Switchboard, and the forwards arriving as they describe.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { startHttpSink } from "../helpers/http-sink.ts";
import { REPO, scratchRuleset } from "../helpers/rules.ts";
import { startTestService } from "../helpers/service.ts";
import { sendVobiz } from "../helpers/vobiz.ts";

const sink = await startHttpSink((request) => ({
  status: request.url.startsWith("/webhooks/vobiz/calls") ? 400 : 200,
}));
const seedText = (name: string): string =>
  readFileSync(path.join(REPO, "test/fixtures/seeds", name), "utf8")
    .replaceAll("https://api.yourapp.com", sink.url)
    .replaceAll("https://backup.yourapp.com", `${sink.url}/backup`)
    .replaceAll("https://webhook.site", `${sink.url}/webhook.site`);
const seed = (name: string): Record<string, unknown> => JSON.parse(seedText(name)) as Record<string, unknown>;

const disk = await scratchRuleset({
  rules: {
    "seeds.json": {
      profiles: {
        "SG_f8XX40-fXX8-4XXf-aXX3-c9XXb": {
          url: `${sink.url}/crm/end?id={id}&secs={billsec}`,
          method: "POST",
        },
      },
      callbacks: {
        account: { default_callback_url: `${sink.url}/account-default` },
        applications: { support: seed("application-callback.json") },
        trunks: { trk_sales: seed("trunk-callback.json") },
      },
      callback: { call_end: (seed("kaleyra-outbound.json") as { call_end: unknown }).call_end },
    },
  },
});
const service = await startTestService(import.meta.url, {
  RULES_DIR: disk.rulesDir,
  TEMPLATES_DIR: disk.templatesDir,
});

async function deliveredTo(prefix: string, count = 1) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const found = sink.requests.filter((r) => r.url.startsWith(prefix));
    if (found.length >= count) return found;
    assert.ok(Date.now() < deadline, `expected ${count} request(s) to ${prefix}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

test("the Callbacks page's Hangup example (a JSON body) goes to the application's callback, which falls back", async () => {
  const body = readFileSync(path.join(REPO, "test/fixtures/seeds/callback-hangup.json"), "utf8");
  const response = await sendVobiz(service.url, "/events/vobiz?app=support&trunk=trk_sales", body, {
    headers: { "content-type": "application/json" },
  });
  assert.equal(response.status, 200);
  const [primary] = await deliveredTo("/webhooks/vobiz/calls");
  assert.equal(primary?.method, "POST");
  assert.equal(primary?.headers["content-type"], "application/x-www-form-urlencoded");
  assert.equal(new URLSearchParams(primary?.body).get("Duration"), "125");
  const [fallback] = await deliveredTo("/backup/webhooks/vobiz/calls");
  assert.equal(fallback?.body, primary?.body, "the fallback URL gets the same delivery");
  // Kaleyra call_end entries fire for the same Hangup: the profile, then the two URLs
  const [profile] = await deliveredTo("/crm/end");
  assert.equal(profile?.url, "/crm/end?id=550e8400-e29b-41d4-a716-446655440000&secs=");
  const urls = await deliveredTo("/webhook.site/", 2);
  assert.deepEqual(urls.map((r) => [r.method, r.url.split("&")[0]]).sort(), [
    ["GET", "/webhook.site/2cXX89-6XX0-4XX7-bXX9-aeXX1?callee=%2B14155555678"],
    ["GET", "/webhook.site/2cXX9-6XX0-4XX7-bXX9-aeXX1?caller=%2B14155551234"],
  ]);
});

test("the Applications page's hangup request (no Event field) on a trunk goes to the trunk's status_callback", async () => {
  const response = await sendVobiz(
    service.url,
    "/events/hangup?trunk=trk_sales",
    readFileSync(path.join(REPO, "test/fixtures/seeds/hangup-request.form"), "utf8"),
  );
  assert.equal(response.status, 200);
  const [delivered] = await deliveredTo("/webhooks/trunk-events");
  assert.equal(
    delivered?.body,
    "CallUUID=abc123&CallStatus=completed&Duration=45&HangupCause=NORMAL_CLEARING",
  );
});

test("the Applications page's answer request gets the default XML and its event reaches the account default", async () => {
  const response = await sendVobiz(
    service.url,
    "/answer",
    readFileSync(path.join(REPO, "test/fixtures/seeds/answer-request.form"), "utf8"),
  );
  assert.equal(response.status, 200);
  assert.match(await response.text(), /<Response>[\s\S]*<Speak>/);
  // this event's delivery: on a loaded machine an earlier test's event may reach the default URL later
  const deadline = Date.now() + 10_000;
  const ours = (): boolean =>
    sink.requests.some(
      (r) => r.url.startsWith("/account-default") && /^CallUUID=abc123&From=14155551234/.test(r.body),
    );
  while (!ours()) {
    const seen = sink.requests.filter((r) => r.url.startsWith("/account-default")).map((r) => r.body);
    assert.ok(
      Date.now() < deadline,
      `the answer event never reached the account default: ${JSON.stringify(seen)}`,
    );
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
});
