/**
 * The dashboard's HTTP contract (SPEC §7, issue 17 items 3-4) against the real service: signing in sets
 * a session cookie (not the token), the admin API accepts it, state-changing requests with it must come
 * from the dashboard's origin (CSRF), signing out ends it; attacker-controlled payloads are escaped in the
 * page; bull-board answers behind the same auth. The browser test (dashboard-browser.test.ts) drives it.
 */
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { test } from "node:test";
import { Redis } from "ioredis";
import { scratchRuleset } from "../helpers/rules.ts";
import { TEST_ADMIN_TOKEN, startTestService } from "../helpers/service.ts";

const disk = await scratchRuleset({
  rules: {
    "dashboard.json": {
      rules: [
        {
          id: "hangups",
          when: { "==": [{ var: "Event" }, "Hangup"] },
          actions: [{ type: "forward", url: "http://127.0.0.1:9/never", retry: { attempts: 1 } }],
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
test.after(() => redis.quit());

const origin = service.url;
async function signIn(token = TEST_ADMIN_TOKEN): Promise<Response> {
  return fetch(`${service.url}/admin/login`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", origin, "sec-fetch-site": "same-origin" },
    body: new URLSearchParams({ token, next: "/admin/" }).toString(),
  });
}
const cookieOf = (response: Response): string =>
  (response.headers.get("set-cookie") ?? "").split(";")[0] ?? "";

test("the page redirects to the sign-in form until signed in; a wrong token is refused with its code", async () => {
  const page = await fetch(`${service.url}/admin/`, { redirect: "manual" });
  assert.equal(page.status, 302);
  assert.equal(page.headers.get("location"), "/admin/login");
  const form = await fetch(`${service.url}/admin/login`);
  assert.equal(form.status, 200);
  assert.match(await form.text(), /<form method="post" action="\/admin\/login"/);
  const wrong = await signIn("not-the-token");
  assert.equal(wrong.status, 401);
  assert.equal(wrong.headers.get("set-cookie"), null, "no session for a wrong token");
  assert.match(await wrong.text(), /ADMIN_LOGIN_FAILED/);
});

test("signing in sets an HttpOnly, SameSite=Strict session cookie on /admin that is not the token", async () => {
  const response = await signIn();
  assert.equal(response.status, 303);
  assert.equal(response.headers.get("location"), "/admin/");
  const header = response.headers.get("set-cookie") ?? "";
  assert.match(header, /; Path=\/admin(;|$)/);
  assert.match(header, /; HttpOnly(;|$)/);
  assert.match(header, /; SameSite=Strict(;|$)/);
  assert.ok(!header.includes(TEST_ADMIN_TOKEN), "the cookie does not carry the token");
  const keys = await redis.keys(`${service.prefix}:admin:session:*`);
  assert.ok(keys.length >= 1, "the session is in Redis");
  assert.ok((await redis.pttl(keys[0] ?? "")) > 0, "with an expiry");
  const cookie = cookieOf(response);
  const page = await fetch(`${service.url}/admin/`, { headers: { cookie } });
  assert.equal(page.status, 200);
  assert.match(page.headers.get("content-security-policy") ?? "", /script-src 'self'/);
  const html = await page.text();
  assert.match(html, /Recent events/);
  const api = await fetch(`${service.url}/admin/rules`, { headers: { cookie } });
  assert.equal(api.status, 200, "the admin API accepts the cookie");
  const bearer = await fetch(`${service.url}/admin/rules`, {
    headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
  });
  assert.equal(bearer.status, 200, "and still the bearer token");
});

test("the cookie is marked Secure when the page is served under an https PUBLIC_URL's host", async () => {
  // fetch sets Host itself: a plain node:http request sends the one a proxy in front would pass on
  const body = new URLSearchParams({ token: TEST_ADMIN_TOKEN }).toString();
  const { status, setCookie } = await new Promise<{ status: number; setCookie: string }>(
    (resolve, reject) => {
      const request = httpRequest(
        `${service.url}/admin/login`,
        {
          method: "POST",
          headers: {
            host: new URL(service.config.publicUrl).host,
            "content-type": "application/x-www-form-urlencoded",
            "content-length": Buffer.byteLength(body),
            "sec-fetch-site": "same-origin",
          },
        },
        (response) => {
          response.resume();
          response.on("end", () =>
            resolve({
              status: response.statusCode ?? 0,
              setCookie: String(response.headers["set-cookie"] ?? ""),
            }),
          );
        },
      );
      request.on("error", reject);
      request.end(body);
    },
  );
  assert.equal(status, 303);
  assert.match(setCookie, /; Secure$/);
  assert.doesNotMatch(
    (await signIn()).headers.get("set-cookie") ?? "",
    /Secure/,
    "not on plain http elsewhere",
  );
});

test("a state-changing request with the cookie from another origin is refused (CSRF); from the dashboard it runs", async () => {
  const cookie = cookieOf(await signIn());
  const body = JSON.stringify({ path: "/events", event: { Event: "Hangup" } });
  const post = (headers: Record<string, string>): Promise<Response> =>
    fetch(`${service.url}/admin/evaluate`, {
      method: "POST",
      headers: { cookie, "content-type": "application/json", ...headers },
      body,
    });
  const crossSite = await post({ origin: "https://evil.example", "sec-fetch-site": "cross-site" });
  assert.equal(crossSite.status, 403);
  assert.equal(((await crossSite.json()) as { code: string }).code, "ADMIN_CSRF_REFUSED");
  const noOrigin = await post({});
  assert.equal(noOrigin.status, 403, "a cookie alone (no Origin, no Sec-Fetch-Site) is not enough");
  const otherOrigin = await post({ origin: "https://evil.example" });
  assert.equal(otherOrigin.status, 403);
  const sameOrigin = await post({ origin, "sec-fetch-site": "same-origin" });
  assert.equal(sameOrigin.status, 200);
  const oldBrowser = await post({ origin });
  assert.equal(oldBrowser.status, 200, "an Origin naming this host is enough without Sec-Fetch-Site");
  const crossLogin = await fetch(`${service.url}/admin/login`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: "https://evil.example" },
    body: new URLSearchParams({ token: TEST_ADMIN_TOKEN }).toString(),
  });
  assert.equal(crossLogin.status, 403, "no sign-in from another site's form");
});

test("signing out ends the session: the same cookie is refused afterwards", async () => {
  const cookie = cookieOf(await signIn());
  const out = await fetch(`${service.url}/admin/logout`, {
    method: "POST",
    redirect: "manual",
    headers: { cookie, origin, "sec-fetch-site": "same-origin" },
  });
  assert.equal(out.status, 303);
  assert.match(out.headers.get("set-cookie") ?? "", /Max-Age=0/);
  const api = await fetch(`${service.url}/admin/rules`, { headers: { cookie } });
  assert.equal(api.status, 401);
  const forged = await fetch(`${service.url}/admin/rules`, {
    headers: { cookie: "switchboard_admin=" + "A".repeat(43) },
  });
  assert.equal(forged.status, 401, "an id that was never issued is not a session");
});

test("dead-letter fields carrying markup (rule, host, reason) are shown as text on the page, never as markup", async () => {
  const cookie = cookieOf(await signIn());
  // a destination's error text and host come from outside: a dead letter with markup in them
  await redis.set(
    `${service.prefix}:dead:x1`,
    JSON.stringify({
      id: "x1",
      eventId: "evt_x",
      rule: "<script>alert(1)</script>",
      host: "<img src=x onerror=alert(2)>",
      failedAt: new Date().toISOString(),
      reason: "<script>alert(3)</script>",
      attempts: [],
      job: { event: { id: "evt_x", path: "/events", receivedAt: new Date().toISOString() }, action: {} },
      retries: 0,
    }),
  );
  await redis.zadd(`${service.prefix}:dead:index`, Date.now(), "x1");
  const html = await (await fetch(`${service.url}/admin/`, { headers: { cookie } })).text();
  assert.ok(!html.includes("<script>alert"), "no script element from data");
  assert.ok(!html.includes("<img src=x"), "no img element from data");
  assert.ok(html.includes("&lt;script&gt;alert(3)&lt;/script&gt;"), "the reason is shown, escaped");
  assert.ok(html.includes("&lt;img src=x onerror=alert(2)&gt;"), "the host is shown, escaped");
  await redis.del(`${service.prefix}:dead:x1`);
  await redis.zrem(`${service.prefix}:dead:index`, "x1");
});

test("bull-board answers at /admin/queues behind the same auth: bearer or cookie, nothing without", async () => {
  const anonymous = await fetch(`${service.url}/admin/queues/api/queues`);
  assert.equal(anonymous.status, 401);
  const page = await fetch(`${service.url}/admin/queues`, {
    redirect: "manual",
    headers: { accept: "text/html" },
  });
  assert.equal(page.status, 302, "a browser is sent to the sign-in form");
  const cookie = cookieOf(await signIn());
  const viaCookie = await fetch(`${service.url}/admin/queues/api/queues`, { headers: { cookie } });
  assert.equal(viaCookie.status, 200);
  const board = (await viaCookie.json()) as {
    queues: Array<{ name: string; counts: Record<string, number> }>;
  };
  assert.deepEqual(board.queues.map((queue) => queue.name).sort(), ["actions", "events"]);
  const viaBearer = await fetch(`${service.url}/admin/queues/`, {
    headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
  });
  assert.equal(viaBearer.status, 200);
  const html = await viaBearer.text();
  assert.match(html, /<div id="root">/);
  assert.doesNotMatch(html, /href="https?:/, "no stylesheet from another host");
  assert.match(viaBearer.headers.get("content-security-policy") ?? "", /font-src 'self'/);
});
