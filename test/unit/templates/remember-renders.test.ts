/**
 * Remembered XML renders: a template is reused only when its output cannot differ, and a remembered render
 * is always the render itself.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import nunjucks from "nunjucks";
import { readPaths, rememberRenders } from "../../../server/templates/remember-renders.ts";
import { createTemplateEnvironment } from "../../../server/templates/template-environment.ts";

const SYNTAX = {
  trimBlocks: true,
  lstripBlocks: true,
  tags: { variableStart: "<<", variableEnd: ">>", commentStart: "{#", commentEnd: "#}" },
};

test("paths: the variables a template reads, with literal keys", () => {
  assert.deepEqual(readPaths("<Speak><< meta.public_url >>/x <<From | e164>></Speak>", SYNTAX), [
    ["meta", "public_url"],
    ["From"],
  ]);
  assert.deepEqual(readPaths('<<query["try"] | default("1")>>', SYNTAX), [["query", "try"]]);
  assert.deepEqual(readPaths('{% if Digits == "1" %}a{% else %}<<b>>{% endif %}', SYNTAX), [
    ["Digits"],
    ["b"],
  ]);
  assert.deepEqual(readPaths("<Response/>", SYNTAX), []);
});

test("templates whose output may depend on more than named values are never remembered", () => {
  for (const source of [
    "{% set x = From %}<<x>>",
    "{% for n in numbers %}<<n>>{% endfor %}",
    "<<list[index]>>",
    "<<items | random>>",
    "<<range(3) | join>>",
    "{% include 'other.xml' %}",
    "{% macro m() %}x{% endmacro %}<<m()>>",
    "<<x is defined>>",
    "<<unclosed",
  ]) {
    assert.equal(readPaths(source, SYNTAX), undefined, source);
  }
});

test("a remembered render equals a fresh render for every context, and is reused for equal values", () => {
  const template = nunjucks.compile(
    '<Speak><< meta.public_url >> <<From | default("anonymous")>></Speak>',
    new nunjucks.Environment(null, { autoescape: true, ...SYNTAX }),
  );
  let renders = 0;
  const render = (context: object): string => {
    renders += 1;
    return template.render(context);
  };
  const paths = readPaths('<Speak><< meta.public_url >> <<From | default("anonymous")>></Speak>', SYNTAX);
  assert.ok(paths);
  const remembered = rememberRenders(render, paths, 4);
  const contexts = [
    { meta: { public_url: "https://a", id: "1" }, From: "91" },
    { meta: { public_url: "https://a", id: "2" }, From: "91" },
    { meta: { public_url: "https://a", id: "3" }, From: 91 },
    { meta: { public_url: "https://a", id: "4" }, From: null },
    { meta: { public_url: "https://a", id: "5" } },
    { meta: { public_url: "https://b", id: "6" }, From: "<&>" },
  ];
  for (let pass = 0; pass < 3; pass += 1) {
    for (const context of contexts) assert.equal(remembered(context), template.render(context));
  }
  // "91" twice in the first pass shares one render; the other five values render once each... until the
  // 4-entry memory is cleared, which only costs renders, never a wrong answer
  assert.ok(renders < contexts.length * 3, `rendered ${renders} times`);
});

test("errors are not remembered: an undefined value throws every time", () => {
  const env = createTemplateEnvironment(new Map([["t.xml", "<Speak><<From>></Speak>"]]), {
    defaultCountry: "IN",
  });
  const template = env.file("t.xml", "xml");
  assert.throws(() => template.render({}), /undefined|null/);
  assert.equal(template.render({ From: "a&b" }), "<Speak>a&amp;b</Speak>");
  assert.throws(() => template.render({}), /undefined|null/);
});

test("the example IVR's templates that read nothing from the caller are remembered", () => {
  const dir = path.resolve(import.meta.dirname, "../../../templates/ivr");
  const remembered = readdirSync(dir)
    .filter((name) => readPaths(readFileSync(path.join(dir, name), "utf8"), SYNTAX) !== undefined)
    .sort();
  assert.ok(remembered.includes("welcome.xml"));
  assert.ok(remembered.includes("sales.xml"));
});
