import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { loadRuleset } from "../../../server/rules/load-ruleset.ts";
import { RULE_PROBLEM_CODES, formatProblem } from "../../../server/rules/rule-problems.ts";
import { REPO, RULE_FIXTURES, TEMPLATES, TEST_CONTEXT, scratchRuleset } from "../../helpers/rules.ts";

test("the example rules in rules/ load and pass every one of their tests", async () => {
  const result = await loadRuleset({
    rulesDir: path.join(REPO, "rules"),
    templatesDir: TEMPLATES,
    context: TEST_CONTEXT,
  });
  assert.deepEqual(result.problems.map(formatProblem), []);
  assert.ok(result.loaded && result.version);
  const ids = result.loaded.ruleset.rules.map((rule) => rule.id);
  for (const id of ["ivr.welcome", "hours.closed", "crm.completed-calls"]) {
    assert.ok(ids.includes(id), id);
    assert.equal(result.loaded.ruleset.rule(id)?.id, id, "found by id");
  }
  assert.equal(result.loaded.ruleset.rule("no.such.rule"), undefined);
  assert.ok(result.tests.length >= 10);
  assert.ok(result.tests.every((t) => t.passed));
  assert.match(result.version.hash, /^[0-9a-f]{64}$/);
});

const EXPECTED_LINES: Record<string, number> = {
  RULE_JSON_SYNTAX: 3,
  RULE_SCHEMA: 6,
  RULE_UNKNOWN_OPERATION: 6,
  RULE_INVALID_ARGUMENT: 5,
  RULE_UNKNOWN_PROFILE: 6,
  TEMPLATE_MISSING: 6,
  TEMPLATE_SYNTAX: 5,
  RULE_TEST_FAILED: 9,
  RULE_UNKNOWN_EVENT: 5,
  RULE_VOBIZ_UNKNOWN_PARAM: 5,
  RULE_VOBIZ_PARAM_INVALID: 6,
};

for (const file of readdirSync(path.join(RULE_FIXTURES, "invalid"))) {
  const code = path.basename(file, ".json");
  test(`invalid/${file} is refused with ${code}, located, and nothing is loaded`, async () => {
    const scratch = await scratchRuleset({ ruleFiles: [path.join(RULE_FIXTURES, "invalid", file)] });
    const result = await scratch.load();
    assert.equal(result.loaded, undefined);
    assert.deepEqual(
      result.problems.map((p) => p.code),
      [code],
      result.problems.map(formatProblem).join("\n"),
    );
    const [problem] = result.problems;
    assert.equal(problem?.file, `rules/${file}`);
    assert.equal(problem?.line, EXPECTED_LINES[code], formatProblem(problem));
    assert.ok((problem?.message.length ?? 0) > 20);
  });
}

test("messages say what is wrong and what would be right", async () => {
  const load = async (file: string): Promise<string> => {
    const scratch = await scratchRuleset({ ruleFiles: [path.join(RULE_FIXTURES, "invalid", file)] });
    return (await scratch.load()).problems.map(formatProblem).join("\n");
  };
  assert.match(await load("RULE_SCHEMA.json"), /unknown key "actoins"; did you mean "actions"\?/);
  assert.match(await load("RULE_SCHEMA.json"), /\/rules\/0\/actoins/);
  assert.match(
    await load("RULE_UNKNOWN_OPERATION.json"),
    /unknown operation "contains".*use one of: .*starts_with/,
  );
  assert.match(
    await load("RULE_INVALID_ARGUMENT.json"),
    /"India\/Bangalore" is not a time zone; use an IANA name/,
  );
  assert.match(await load("RULE_UNKNOWN_PROFILE.json"), /no profile "CRM-typo".*defined: crm/);
  assert.match(
    await load("RULE_UNKNOWN_EVENT.json"),
    /:5:\d+ RULE_UNKNOWN_EVENT at \/rules\/0\/on\/1: unknown event "Hangups"; did you mean "Hangup"\?.*custom_events/,
  );
  assert.match(await load("TEMPLATE_MISSING.json"), /no template "ivr\/no-such-file.xml"/);
  assert.match(
    await load("RULE_VOBIZ_UNKNOWN_PARAM.json"),
    /:5:\d+ RULE_VOBIZ_UNKNOWN_PARAM at \/rules\/0\/actions\/0\/params\/legs: dtmf has no param "legs"; did you mean "leg"\?/,
  );
  assert.match(
    await load("RULE_VOBIZ_PARAM_INVALID.json"),
    /:6:\d+ RULE_VOBIZ_PARAM_INVALID at \/rules\/0\/actions\/0\/params\/voice: speak: "GIRL" is not allowed; use one of "WOMAN", "MAN", "Polly"/,
  );
  assert.match(
    await load("RULE_TEST_FAILED.json"),
    /rule "long-calls", test "a 30-second call is not forwarded": the rule did not match: "when" was false; expected match true, got false/,
  );
});

test("a duplicate rule id names both places", async () => {
  const scratch = await scratchRuleset({
    ruleFiles: [
      path.join(RULE_FIXTURES, "duplicate-id/a.json"),
      path.join(RULE_FIXTURES, "duplicate-id/b.json"),
    ],
  });
  const { problems } = await scratch.load();
  assert.equal(problems.length, 1);
  assert.equal(problems[0]?.code, "RULE_DUPLICATE_ID");
  assert.equal(problems[0]?.file, "rules/b.json");
  assert.equal(problems[0]?.pointer, "/rules/1/id");
  assert.match(problems[0]?.message ?? "", /"crm" is already used at rules\/a\.json:2/);
});

test("every problem in every file is reported at once", async () => {
  const dir = path.join(RULE_FIXTURES, "invalid");
  const scratch = await scratchRuleset({ ruleFiles: readdirSync(dir).map((file) => path.join(dir, file)) });
  const codes = new Set((await scratch.load()).problems.map((p) => p.code));
  // rule tests run only once everything else is valid
  for (const file of readdirSync(dir)) {
    const code = path.basename(file, ".json");
    if (code !== "RULE_TEST_FAILED") assert.ok(codes.has(code as keyof typeof RULE_PROBLEM_CODES), code);
  }
});

test("files load in path order, recursively, skipping names that start with . or _; profile keys are case-insensitive", async () => {
  const result = await loadRuleset({
    rulesDir: path.join(RULE_FIXTURES, "valid"),
    templatesDir: TEMPLATES,
    context: TEST_CONTEXT,
  });
  assert.deepEqual(result.problems, []);
  const rules = result.loaded?.ruleset.rules ?? [];
  assert.deepEqual(
    rules.map((rule) => [rule.id, rule.file]),
    [
      ["high-priority", "valid/nested/b-second.json"],
      ["first-in-file-order", "valid/a-first.json"],
      ["second-in-file-order", "valid/nested/b-second.json"],
    ],
  );
  assert.deepEqual(rules[1]?.compiled[0]?.spec, {
    url: "https://crm.example.com/c?caller=<<caller_e164>>",
    method: "PUT",
    type: "forward",
    profile: "Crm",
  });
});

test("a template file that does not compile is refused with its own file and line", async () => {
  const scratch = await scratchRuleset({
    templates: { "broken.xml": "<Response>\n  <Speak>{% if From %}hi</Speak>\n</Response>\n" },
  });
  const { problems } = await scratch.load();
  assert.equal(problems.length, 1);
  assert.equal(problems[0]?.code, "TEMPLATE_SYNTAX");
  assert.equal(problems[0]?.file, "templates/broken.xml");
  assert.ok((problems[0]?.line ?? 0) > 0);
});

test("a reply that fails for a sample answer request is refused when the rule has no tests", async () => {
  const scratch = await scratchRuleset({
    rules: {
      "r.json": {
        rules: [
          {
            id: "needs-field",
            actions: [{ type: "respond", xml: "<Response><Speak><<CustomerName>></Speak></Response>" }],
          },
        ],
      },
    },
  });
  const { problems } = await scratch.load();
  assert.deepEqual(
    problems.map((p) => p.code),
    ["TEMPLATE_RENDER"],
  );
  assert.match(problems[0]?.message ?? "", /default/);
});

test("the version hash changes with any rule or template byte, and not otherwise", async () => {
  const scratch = await scratchRuleset({ rules: { "r.json": { rules: [] } } });
  const first = (await scratch.load()).version?.hash;
  assert.equal((await scratch.load()).version?.hash, first);
  await scratch.write("templates/extra.xml", "<Response/>");
  const second = (await scratch.load()).version?.hash;
  assert.notEqual(second, first);
  await scratch.write("rules/r.json", { rules: [], description: "x" });
  assert.notEqual((await scratch.load()).version?.hash, second);
});

test("on accepts Vobiz events, aliases and * in any case, and a custom name only when the file declares it", async () => {
  const rule = (on: unknown, id = JSON.stringify(on)): Record<string, unknown> => ({
    id: `r-${id.replace(/[^A-Za-z0-9]/g, "")}`,
    on,
    actions: [{ type: "forward", url: "https://x.example.com/" }],
  });
  const known = await scratchRuleset({
    rules: { "k.json": { rules: [rule("hangup"), rule(["DialAction", "recording.completed"]), rule("*")] } },
  });
  assert.deepEqual((await known.load()).problems.map(formatProblem), []);
  const custom = await scratchRuleset({
    rules: {
      "a.json": { custom_events: ["OrderPlaced"], rules: [rule("OrderPlaced")] },
      "b.json": { rules: [rule("OrderPlaced", "b1"), rule("XyzUnrelated")] },
    },
  });
  const problems = (await custom.load()).problems;
  assert.deepEqual(
    problems.map((p) => [p.file, p.code, p.pointer]),
    [
      ["rules/b.json", "RULE_UNKNOWN_EVENT", "/rules/0/on"],
      ["rules/b.json", "RULE_UNKNOWN_EVENT", "/rules/1/on"],
    ],
    "a declaration in one file does not cover another",
  );
  assert.doesNotMatch(problems[1]?.message ?? "", /did you mean/);
});

test("a secrets.NAME whose SECRET_NAME is not set is a located warning, not a problem", async () => {
  const scratch = await scratchRuleset({
    rules: {
      "crm.json": {
        rules: [
          {
            id: "crm",
            on: "Hangup",
            actions: [
              {
                type: "forward",
                url: "https://crm.example.com/",
                headers: { "X-Key": "<<secrets.CRM_KEY>>" },
              },
            ],
          },
        ],
      },
    },
    templates: { "body.njk": '{\n  "token": "<<secrets.OTHER>>"\n}\n' },
  });
  const load = (names: string[]) =>
    loadRuleset({
      rulesDir: scratch.rulesDir,
      templatesDir: scratch.templatesDir,
      context: TEST_CONTEXT,
      secretNames: new Set(names),
    });
  const unset = await load(["OTHER"]);
  assert.ok(unset.loaded, "it still loads");
  assert.deepEqual(
    unset.warnings.map((w) => `${w.file}:${w.line} ${w.code}`),
    ["rules/crm.json:11 RULE_SECRET_UNSET"],
  );
  assert.match(unset.warnings[0]?.message ?? "", /secrets\.CRM_KEY is used but SECRET_CRM_KEY is not set/);
  assert.deepEqual(
    (await load([])).warnings.map((w) => `${w.file}:${w.line}:${w.column}`),
    ["rules/crm.json:11:25", "templates/body.njk:2:15"],
  );
  assert.deepEqual((await load(["CRM_KEY", "OTHER"])).warnings, []);
});

test("the rule-problem table (docs/error-codes.md) lists exactly the problem codes", () => {
  const page = readFileSync(path.join(REPO, "docs/error-codes.md"), "utf8");
  const section = page.split(/^## Rule file problem codes$/m)[1]?.split(/^##/m)[0];
  assert.ok(section, "docs/error-codes.md has a '## Rule file problem codes' section");
  const documented = [...section.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]).sort();
  assert.deepEqual(documented, Object.keys(RULE_PROBLEM_CODES).sort());
});

test("a matches pattern taken from the event is refused at load, with file and position", async () => {
  const scratch = await scratchRuleset({
    rules: {
      "hostile.json": {
        rules: [
          {
            id: "ok",
            when: { matches: [{ var: "To" }, "(a+)+$"] },
            actions: [{ type: "forward", url: "https://a.example/x" }],
          },
          {
            id: "from-event",
            when: { matches: [{ var: "x" }, { var: "y" }] },
            actions: [{ type: "forward", url: "https://a.example/x" }],
          },
        ],
      },
    },
  });
  const result = await scratch.load();
  assert.equal(result.loaded, undefined);
  assert.deepEqual(
    result.problems.map((p) => [p.file, p.line, p.pointer, p.code]),
    [["rules/hostile.json", 27, "/rules/1/when/matches/1", "RULE_INVALID_ARGUMENT"]],
    result.problems.map(formatProblem).join("\n"),
  );
});

test("replies that use what Vobiz's documents disagree about load, with located TEMPLATE_XML_DISPUTED warnings", async () => {
  const scratch = await scratchRuleset({
    rules: {
      "disputed.json": {
        rules: [
          {
            id: "menu",
            path: "/answer/menu",
            actions: [
              {
                type: "respond",
                xml: '<Response><Gather numDigits="1" timeout="10" action="https://x/m"><Speak><speak>Press <emphasis>1</emphasis></speak></Speak></Gather></Response>',
              },
            ],
          },
          {
            id: "room",
            path: "/answer/room",
            actions: [
              {
                type: "respond",
                xml: '<Response><Conference enterSound="beep:1">support</Conference></Response>',
              },
            ],
            tests: [
              { path: "/answer/room", event: { Event: "StartApp" }, expect: { xml_contains: "support" } },
              { name: "again", path: "/answer/room", event: { Event: "StartApp" }, expect: { match: true } },
            ],
          },
        ],
      },
    },
  });
  const result = await scratch.load();
  assert.deepEqual(result.problems.map(formatProblem), []);
  assert.ok(result.loaded, "the ruleset loads");
  assert.deepEqual(
    result.warnings.map((w) => [w.file, w.line, w.pointer, w.code]),
    [
      ["rules/disputed.json", 7, "/rules/0/actions/0", "TEMPLATE_XML_DISPUTED"],
      ["rules/disputed.json", 23, "/rules/1/tests/0", "TEMPLATE_XML_DISPUTED"],
    ],
    result.warnings.map(formatProblem).join("\n"),
  );
  assert.match(formatProblem(result.warnings[0]!), /<Gather> timeout: .*write executionTimeout/);
  assert.match(
    formatProblem(result.warnings[1]!),
    /rule "room", test "test 1": .*<Conference> enterSound: .*beep/,
  );
  assert.deepEqual(
    result.loaded.warnings,
    result.warnings,
    "kept with the loaded ruleset for GET /admin/rules",
  );
});
