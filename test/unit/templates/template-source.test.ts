/**
 * The escaping contract of every output kind (SPEC §5.1): hostile values placed by a template can never
 * change the structure around them.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { createTemplateEnvironment } from "../../../server/templates/template-environment.ts";
import { prepareSource } from "../../../server/templates/template-source.ts";

const HOSTILE = [
  `"quoted'`,
  "a&b=c",
  '<tag attr="x">',
  "line\nbreak\r\nX-Injected: 1",
  "{{7*7}}",
  "<<x>>",
  "ünïcødé ✓ 📞",
  "/../../admin?x=1#frag",
  "%2F",
];
const env = createTemplateEnvironment(new Map(), { defaultCountry: "IN" });
const render = (source: string, kind: Parameters<typeof env.inline>[1], value: unknown): string =>
  env.inline(source, kind, "test").render({ value, list: [value] });

for (const value of HOSTILE) {
  test(`url: ${JSON.stringify(value)} stays inside its query value`, () => {
    const url = new URL(render("https://crm.example.com/calls?caller=<<value>>&x=1", "url", value));
    assert.equal(url.host, "crm.example.com");
    assert.equal(url.pathname, "/calls");
    assert.deepEqual([...url.searchParams.keys()], ["caller", "x"]);
    assert.equal(url.searchParams.get("caller"), value);
  });
  test(`url path segment: ${JSON.stringify(value)} stays one segment`, () => {
    const url = new URL(render("https://crm.example.com/calls/<<value>>/notes", "url", value));
    assert.equal(url.host, "crm.example.com");
    assert.equal(url.pathname.split("/").length, 4);
    assert.equal(decodeURIComponent(url.pathname.split("/")[2] ?? ""), value);
  });
  test(`json: ${JSON.stringify(value)} stays inside its string and the result parses`, () => {
    const parsed = JSON.parse(
      render('{"caller": "<<value>>", "all": <<list | dump>>}', "json", value),
    ) as Record<string, unknown>;
    assert.deepEqual(parsed, { caller: value, all: [value] });
  });
  test(`xml: ${JSON.stringify(value)} is escaped as text and as an attribute`, () => {
    const xml = render('<Speak voice="<<value>>"><<value>></Speak>', "xml", value);
    assert.match(xml, /^<Speak voice="[^"<>]*">[^<>]*<\/Speak>$/);
  });
  test(`header: ${JSON.stringify(value)} cannot add a header line`, () => {
    assert.doesNotMatch(render("Bearer <<value>>", "header", value), /[\r\n]/);
  });
}

test("url: {{name}} and {name} mean <<name>> (callback-profile style), {% %} blocks stay", () => {
  const source = "https://h.example.com/a?c={{caller}}&d={callee}{% if status %}&s=<<status>>{% endif %}";
  assert.equal(
    env.inline(source, "url", "t").render({ caller: "+91 98", callee: "a&b", status: "busy" }),
    "https://h.example.com/a?c=%2B91%2098&d=a%26b&s=busy",
  );
  assert.equal(
    prepareSource("{%if x%}{{y}}{%endif%}", "url"),
    '{%if x%}<<(y | default("")) | sb_url>>{%endif%}',
  );
});

test("undefined values throw; | default supplies one; | e164 formats numbers", () => {
  assert.throws(() => env.inline("<<nope>>", "text", "t").render({}), /undefined/);
  assert.equal(env.inline('<<nope | default("none")>>', "text", "t").render({}), "none");
  assert.equal(env.inline("<<From | e164>>", "url", "t").render({ From: "919876543210" }), "%2B919876543210");
});

test("| safe opts out of escaping (for values the rule author controls)", () => {
  assert.equal(
    env.inline("https://x.example.com/<<path | safe>>", "url", "t").render({ path: "a/b?c=d" }),
    "https://x.example.com/a/b?c=d",
  );
});
