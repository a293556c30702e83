/**
 * Rules end to end on a fleet of two instances sharing one Redis prefix, each reading its own folder:
 * the admin API (auth, rules, dry run), the event pipeline (evaluate → one job per action → a real HTTP
 * destination), and the fleet-wide reload that swaps only a ruleset that validates and passes its tests.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Redis } from "ioredis";
import { startHttpSink } from "../helpers/http-sink.ts";
import { scratchRuleset } from "../helpers/rules.ts";
import { TEST_ADMIN_TOKEN, startTestService } from "../helpers/service.ts";
import { isDecided, readTrace } from "../helpers/traces.ts";
import { sendVobiz } from "../helpers/vobiz.ts";

const sink = await startHttpSink();
const ruleFile = (crmPath: string): unknown => ({
  rules: [
    {
      id: "crm",
      description: "long calls to the CRM",
      on: "call_end",
      when: { ">": [{ var: "Duration" }, 60] },
      actions: [
        {
          type: "forward",
          url: `${sink.url}/${crmPath}?caller=<<caller_e164>>`,
          retry: { attempts: 2, delay: "100ms" },
        },
      ],
      tests: [{ event: { Event: "Hangup", Duration: "95", From: "919876543210" }, expect: { match: true } }],
    },
    {
      id: "greeting",
      on: "StartApp",
      path: "/answer/**",
      actions: [{ type: "respond", xml: "<Response><Speak>Hello <<caller>></Speak></Response>" }],
      tests: [
        { path: "/answer/x", event: { Event: "StartApp", From: "1" }, expect: { xml_contains: "Hello 1" } },
      ],
    },
  ],
});
const diskA = await scratchRuleset({ rules: { "crm.json": ruleFile("crm") } });
const diskB = await scratchRuleset({ rules: { "crm.json": ruleFile("crm") } });
const a = await startTestService(import.meta.url, {
  RULES_DIR: diskA.rulesDir,
  TEMPLATES_DIR: diskA.templatesDir,
});
const b = await startTestService(
  import.meta.url,
  { RULES_DIR: diskB.rulesDir, TEMPLATES_DIR: diskB.templatesDir, REDIS_PREFIX: a.prefix },
  a.testRedis,
);
const redis = new Redis(a.redisUrl);
test.after(() => redis.quit());

const admin = (
  service: { url: string },
  path: string,
  init: RequestInit = {},
  token = TEST_ADMIN_TOKEN,
): Promise<Response> =>
  fetch(`${service.url}${path}`, {
    ...init,
    headers: {
      authorization: `Bearer ${token}`,
      "content-type": "application/json",
      ...(init.headers as Record<string, string>),
    },
  });
interface RulesReply {
  version: { hash: string; commit: string | null; loadedAt: string };
  instance: string;
  instances: Array<{ id: string }>;
  items: Array<{ id: string; file: string; line: number; tests: number }>;
}
const rulesOf = async (service: { url: string }): Promise<RulesReply> =>
  (await (await admin(service, "/admin/rules")).json()) as RulesReply;

let calls = 0;
const hangup = (duration = "95"): Record<string, string> => ({
  Event: "Hangup",
  CallUUID: `call-${process.pid}-${(calls += 1)}`,
  From: "919876543210",
  To: "918040001234",
  Duration: duration,
});

test("admin routes need the bearer token, compared exactly", async () => {
  for (const token of ["", "wrong", `${TEST_ADMIN_TOKEN}x`, TEST_ADMIN_TOKEN.slice(0, -1)]) {
    const response = await admin(a, "/admin/rules", {}, token);
    assert.equal(response.status, 401);
    assert.deepEqual(((await response.json()) as { code: string }).code, "ADMIN_UNAUTHORIZED");
  }
  const plain = await fetch(`${a.url}/admin/rules`);
  assert.equal(plain.status, 401);
  assert.match(plain.headers.get("www-authenticate") ?? "", /^Bearer/);
});

test("GET /admin/rules lists every rule with its file and line, the version and the fleet", async () => {
  const body = await rulesOf(a);
  assert.match(body.version.hash, /^[0-9a-f]{64}$/);
  assert.deepEqual(
    body.items.map((rule) => [rule.id, rule.file, rule.line, rule.tests]),
    [
      ["crm", "rules/crm.json", 3, 1],
      ["greeting", "rules/crm.json", 38, 1],
    ],
  );
  assert.equal(body.instances.length, 2);
  assert.ok(body.instances.some((i) => i.id === body.instance));
});

test("an event is evaluated by a worker and forwarded to the matched rule's destination, and the trace says so", async () => {
  const before = sink.requests.length;
  const response = await sendVobiz(a.url, "/events", hangup());
  const { id } = (await response.json()) as { id: string };
  const [delivered] = (await sink.waitFor(before + 1)).slice(before);
  assert.equal(delivered?.method, "POST");
  assert.equal(delivered?.url, "/crm?caller=%2B919876543210");
  assert.equal(delivered?.headers["idempotency-key"], `${id}:crm:0`);
  assert.match(String(delivered?.headers["user-agent"]), /^Switchboard\/\d+\.\d+\.\d+/);
  assert.match(delivered?.body ?? "", /^Event=Hangup&CallUUID=/);
  const trace = await readTrace(redis, a.prefix, id);
  assert.equal((trace.ruleset as { hash: string }).hash, (await rulesOf(a)).version.hash);
  assert.deepEqual(
    (trace.matches as Array<{ id: string }>).map((m) => m.id),
    ["crm"],
  );
  assert.deepEqual(
    trace.actions.map(({ job, rule, index, type }) => ({ job, rule, index, type })),
    [{ job: `${id}:crm:0`, rule: "crm", index: 0, type: "forward" }],
  );
});

test("an /answer request is answered from the rules, in process", async () => {
  const response = await sendVobiz(a.url, "/answer/main", {
    Event: "StartApp",
    CallUUID: `ans-${process.pid}`,
    From: "919876543210",
  });
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /^application\/xml/);
  assert.equal(await response.text(), "<Response><Speak>Hello 919876543210</Speak></Response>");
  const listed = (await (await admin(a, "/admin/events?limit=1&type=StartApp")).json()) as {
    items: Array<{ answer: unknown; path: string }>;
  };
  assert.equal(listed.items[0]?.path, "/answer/main");
  assert.deepEqual(
    listed.items[0]?.answer,
    { outcome: "rule", rule: "greeting" },
    "the trace records the reply's outcome",
  );
});

test("POST /admin/evaluate explains the decision and renders the forward, storing and sending nothing", async () => {
  const indexBefore = await redis.zcard(`${a.prefix}:index:events`);
  const sent = sink.requests.length;
  const response = await admin(a, "/admin/evaluate", {
    method: "POST",
    body: JSON.stringify({
      path: "/events",
      event: { Event: "Hangup", Duration: "30", From: "919876543210" },
    }),
  });
  assert.equal(response.status, 200);
  const body = (await response.json()) as {
    matched: unknown[];
    rules: Array<{ id: string; matched: boolean; failed?: string; when?: { value: unknown } }>;
    event: { type: string };
  };
  assert.equal(body.event.type, "Hangup");
  assert.deepEqual(body.matched, []);
  assert.deepEqual(
    body.rules.map((r) => [r.id, r.matched, r.failed, r.when?.value]),
    [["crm", false, "when", false]],
  );

  const long = (await (
    await admin(a, "/admin/evaluate", {
      method: "POST",
      body: JSON.stringify({ path: "/events", event: hangup() }),
    })
  ).json()) as { matched: Array<{ id: string; actions: Array<{ url: string }> }> };
  assert.deepEqual(
    long.matched.map((m) => [m.id, m.actions[0]?.url]),
    [["crm", `${sink.url}/crm?caller=%2B919876543210`]],
  );
  assert.equal(await redis.zcard(`${a.prefix}:index:events`), indexBefore);
  assert.equal(sink.requests.length, sent);
});

test("POST /admin/evaluate refuses a body it cannot use, saying what to send", async () => {
  const response = await admin(a, "/admin/evaluate", {
    method: "POST",
    body: JSON.stringify({ event: "Hangup" }),
  });
  assert.equal(response.status, 400);
  const body = (await response.json()) as { code: string; problems: string[] };
  assert.equal(body.code, "ADMIN_BODY_INVALID");
  assert.equal(body.problems.length, 2);
  const malformed = await admin(a, "/admin/evaluate", { method: "POST", body: "{" });
  assert.equal(malformed.status, 400);
});

test("a reload that fails validation or a rule test is refused with every problem, and the old ruleset keeps serving", async () => {
  const old = (await rulesOf(a)).version.hash;
  await diskA.write(
    "rules/broken.json",
    '{\n  "rules": [\n    { "id": "crm", "actions": [{ "type": "forward", "url": "https://x.example.com" }] },\n    { "id": "bad", "when": { "nope": [] }, "actions": [{ "type": "respond", "template": "missing.xml" }] }\n  ]\n}\n',
  );
  const response = await admin(a, "/admin/reload", { method: "POST" });
  assert.equal(response.status, 422);
  const body = (await response.json()) as {
    code: string;
    errors: Array<{ file: string; line: number; pointer: string; code: string; message: string }>;
    instances: Array<{ id: string; errors: unknown[]; version: { hash: string } }>;
  };
  assert.equal(body.code, "RULESET_INVALID");
  assert.deepEqual(
    body.errors.map((e) => [e.file, e.line, e.pointer, e.code]),
    [
      ["rules/broken.json", 4, "/rules/1/when/nope", "RULE_UNKNOWN_OPERATION"],
      ["rules/broken.json", 4, "/rules/1/actions/0/template", "TEMPLATE_MISSING"],
      ["rules/crm.json", 4, "/rules/0/id", "RULE_DUPLICATE_ID"],
    ],
  );
  // instance B read its own (unchanged) disk and reloaded fine
  assert.equal(body.instances.length, 2);
  assert.equal(body.instances.filter((i) => i.errors.length === 0).length, 1);
  assert.equal((await rulesOf(a)).version.hash, old);

  const before = sink.requests.length;
  await sendVobiz(a.url, "/events", hangup());
  const [delivered] = (await sink.waitFor(before + 1)).slice(before);
  assert.equal(delivered?.url, "/crm?caller=%2B919876543210", "still the old rule");

  await diskA.write("rules/broken.json", { rules: [] });
  await diskA.write("rules/crm.json", {
    rules: [
      {
        id: "crm",
        on: "Hangup",
        actions: [{ type: "forward", url: "https://x.example.com" }],
        tests: [{ event: { Event: "Ring" }, expect: { match: true } }],
      },
    ],
  });
  const failing = (await (await admin(a, "/admin/reload", { method: "POST" })).json()) as {
    errors: Array<{ code: string; message: string }>;
  };
  assert.deepEqual(
    failing.errors.map((e) => e.code),
    ["RULE_TEST_FAILED"],
  );
  assert.match(failing.errors[0]?.message ?? "", /expected match true, got false/);
  assert.equal((await rulesOf(a)).version.hash, old);
});

test("a good reload swaps the ruleset on every instance, each from its own disk, and changes behaviour", async () => {
  await diskA.write("rules/crm.json", ruleFile("crm-v2"));
  await diskB.write("rules/crm.json", ruleFile("crm-v2"));
  await diskA.write("rules/broken.json", { rules: [] });
  await diskB.write("rules/broken.json", { rules: [] });
  const response = await admin(b, "/admin/reload", { method: "POST" });
  assert.equal(response.status, 200);
  const body = (await response.json()) as {
    version: { hash: string };
    instances: Array<{ id: string; version: { hash: string }; errors: unknown[] }>;
  };
  assert.equal(body.instances.length, 2);
  for (const instance of body.instances) {
    assert.deepEqual(instance.errors, []);
    assert.equal(instance.version.hash, body.version.hash, "same files on both disks: same hash");
  }
  assert.equal((await rulesOf(a)).version.hash, body.version.hash);
  assert.equal((await rulesOf(b)).version.hash, body.version.hash);

  const before = sink.requests.length;
  await sendVobiz(a.url, "/events", hangup());
  const [delivered] = (await sink.waitFor(before + 1)).slice(before);
  assert.equal(delivered?.url, "/crm-v2?caller=%2B919876543210");
});

test("a reply Vobiz's own documents disagree about loads, warned about by the reload and GET /admin/rules", async () => {
  await diskA.write("rules/disputed.json", {
    rules: [
      {
        id: "disputed-menu",
        path: "/answer/disputed",
        priority: 1, // before "greeting", which answers every /answer path
        actions: [
          {
            type: "respond",
            xml: '<Response><Gather timeout="10" action="https://x/m"><Speak>Press 1</Speak></Gather></Response>',
          },
        ],
      },
    ],
  });
  const response = await admin(a, "/admin/reload", { method: "POST" });
  assert.equal(response.status, 200, "a warning never refuses a reload");
  type Warning = { file: string; line: number; pointer: string; code: string; message: string };
  const body = (await response.json()) as {
    warnings: Warning[];
    instances: Array<{ id: string; errors: unknown[]; warnings: Warning[] }>;
  };
  const expected = [["rules/disputed.json", 8, "/rules/0/actions/0", "TEMPLATE_XML_DISPUTED"]];
  const located = (warnings: Warning[]): unknown[] =>
    warnings.map((w) => [w.file, w.line, w.pointer, w.code]);
  assert.deepEqual(located(body.warnings), expected);
  assert.match(body.warnings[0]?.message ?? "", /<Gather> timeout: .*write executionTimeout/);
  const own = (await rulesOf(a)) as RulesReply & { instance: string; warnings: Warning[] };
  assert.deepEqual(located(own.warnings), expected, "the loaded ruleset keeps its warnings");
  assert.deepEqual(
    body.instances.map((instance) => [
      instance.id === own.instance,
      instance.errors,
      located(instance.warnings),
    ]),
    [
      [true, [], expected],
      [false, [], []],
    ],
    "each instance reports its own disk",
  );
  const reply = await sendVobiz(a.url, "/answer/disputed", {
    Event: "StartApp",
    CallUUID: `d-${process.pid}`,
  });
  assert.match(await reply.text(), /<Gather timeout="10"/, "sent as written, not replaced by the fallback");
});

test("no request fails while reloads run", async () => {
  const reloads = Array.from({ length: 3 }, () => admin(a, "/admin/reload", { method: "POST" }));
  const requests = Array.from({ length: 60 }, (_, i) =>
    i % 2 === 0
      ? sendVobiz(a.url, "/events", hangup("5"))
      : sendVobiz(b.url, "/answer/x", { Event: "StartApp", CallUUID: `r-${process.pid}-${i}`, From: "2" }),
  );
  const statuses = (await Promise.all(requests)).map((r) => r.status);
  assert.deepEqual([...new Set(statuses)], [200]);
  for (const reload of await Promise.all(reloads)) assert.equal(reload.status, 200);
});

test("an event whose conditions run past the CPU budget is recorded as failed, and later rules never act on it", async () => {
  await diskA.write("rules/heavy.json", {
    rules: [
      // 400: together they must outlast the 50 ms budget on a fast machine too (40 did not, on a quiet one)
      ...Array.from({ length: 400 }, (_, i) => ({
        id: `heavy.${i}`,
        on: "call_end",
        when: { matches: [{ var: "Big" }, `(a|aa)+(b|${i})$`] },
        actions: [{ type: "forward", url: `${sink.url}/heavy-${i}` }],
      })),
      {
        id: "heavy.after",
        on: "call_end",
        priority: -10,
        actions: [{ type: "forward", url: `${sink.url}/after-the-budget` }],
      },
    ],
  });
  assert.equal((await admin(a, "/admin/reload", { method: "POST" })).status, 200);
  const response = await sendVobiz(a.url, "/events", { ...hangup("5"), Big: "a".repeat(60_000) });
  const { id } = (await response.json()) as { id: string };
  const deadline = Date.now() + 20_000;
  while (!(await isDecided(redis, a.prefix, id))) {
    assert.ok(Date.now() < deadline, "processed within 20 s");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const view = (await (await admin(a, `/admin/events/${id}`)).json()) as {
    status: string;
    errors: Array<{ id: string; error: string; overBudget?: boolean }>;
    matches: Array<{ id: string }>;
  };
  assert.equal(view.status, "failed");
  assert.equal(view.errors.length, 1);
  assert.match(view.errors[0]?.id ?? "", /^heavy\.\d+$/);
  assert.equal(view.errors[0]?.overBudget, true);
  assert.match(view.errors[0]?.error ?? "", /ran past their CPU budget \(50 ms\)/);
  assert.ok(
    !view.matches.some((rule) => rule.id === "heavy.after"),
    "the rule after the budget never matched",
  );
  const failed = (await (await admin(a, "/admin/events?status=failed&limit=50")).json()) as {
    items: Array<{ id: string }>;
  };
  assert.ok(
    failed.items.some((item) => item.id === id),
    "listed with the failed events",
  );
});
