/**
 * Rule tests (SPEC §4.4): each test builds an event, evaluates the whole ruleset at a fixed time, renders
 * what would be sent, and compares it with `expect`. Nothing is sent or stored. Every failed expectation
 * says what was expected and what happened. Used by reload, `switchboard test` and the unit tests. Pure.
 *
 * `match`, `forward` and `vobiz` are about the rule that holds the test; `rules`, `xml` and `xml_contains`
 * are about the whole ruleset's outcome for the event (all matched rules; the reply the caller would hear).
 */
import { isDeepStrictEqual } from "node:util";
import type { RenderedAction } from "../actions/compile-actions.ts";
import { chooseReply } from "../answer/choose-reply.ts";
import { finishVobizParams } from "../actions/check-vobiz-params.ts";
import { inspectVobizXml } from "../templates/check-vobiz-xml.ts";
import { buildContext, type ContextOptions, type EventContext } from "../events/build-context.ts";
import type { Payload } from "../events/parse-payload.ts";
import type { CompiledTemplate } from "../templates/template-environment.ts";
import type { CompiledRule, Ruleset } from "./compile-ruleset.ts";
import { evaluateRules, type Evaluation } from "./evaluate-rules.ts";
import type { RuleTest } from "./rule-file-types.ts";

export const DEFAULT_TEST_TIME = "2025-01-06T10:00:00Z";

export interface ExpectationFailure {
  expectation: string;
  expected: unknown;
  actual: unknown;
  message: string;
}

export interface RuleTestResult {
  rule: string;
  file: string;
  line: number;
  /** JSON pointer of the test in its file */
  pointer: string;
  name: string;
  passed: boolean;
  failures: ExpectationFailure[];
  /** what Vobiz's documents disagree about in the reply (accepted; warned about at load) */
  warnings?: string[];
}

export interface TestTarget {
  ruleset: Ruleset;
  defaultReply: CompiledTemplate | undefined;
}

/** The event a test (or the dry run) describes, as the service would build it. */
export function testEvent(
  input: { path?: string; event: Record<string, unknown>; query?: Record<string, string>; at?: string },
  options: ContextOptions,
): { context: EventContext; payload: Payload } {
  const path = input.path ?? "/events";
  const payload: Payload = Object.fromEntries(
    Object.entries(input.event).map(([key, value]) => [
      key,
      typeof value === "string" ? value : JSON.stringify(value),
    ]),
  );
  const context = buildContext(
    {
      id: "evt_test",
      route: path === "/answer" || path.startsWith("/answer/") ? "answer" : "events",
      path,
      query: input.query ?? {},
      payload,
      receivedAt: new Date(input.at ?? DEFAULT_TEST_TIME).toISOString(),
    },
    options,
  );
  return { context, payload };
}

/** Whether `actual` has every key of `expected` with an equal value (objects compared the same way, one level down). */
function partialMatch(expected: Record<string, unknown>, actual: Record<string, unknown>): boolean {
  return Object.entries(expected).every(([key, value]) => {
    const got = actual[key];
    if (
      value !== null &&
      typeof value === "object" &&
      !Array.isArray(value) &&
      got !== null &&
      typeof got === "object"
    ) {
      return partialMatch(value as Record<string, unknown>, got as Record<string, unknown>);
    }
    return isDeepStrictEqual(value, got);
  });
}

function whyNot(evaluation: Evaluation, rule: CompiledRule): string {
  const verdict = evaluation.verdicts?.find((candidate) => candidate.id === rule.id);
  if (verdict === undefined)
    return 'the rule is not a candidate for this event type (check "on" and "enabled")';
  switch (verdict.failed) {
    case "on":
      return `"on" ${JSON.stringify(rule.on)} does not accept this event`;
    case "path":
      return `"path" ${JSON.stringify(rule.paths)} does not match the test's path`;
    case "scope":
      return `"scope" ${JSON.stringify(rule.scope)} does not match the event's scope`;
    case "when":
      return `"when" was false`;
    case "stopped":
      return 'a higher-priority rule with "stop" matched first';
    case "superseded":
      return "a more specific level of the callbacks hierarchy matched";
    case "error":
      return `"when" failed: ${verdict.error ?? ""}`;
    default:
      return "it matched";
  }
}

export function runRuleTest(
  target: TestTarget,
  rule: CompiledRule,
  test: RuleTest,
  index: number,
  options: ContextOptions,
): RuleTestResult {
  const pointer = `${rule.pointer}/tests/${index}`;
  const failures: ExpectationFailure[] = [];
  const warnings: string[] = [];
  const fail = (expectation: string, expected: unknown, actual: unknown, message: string): void => {
    failures.push({ expectation, expected, actual, message });
  };
  const { context, payload } = testEvent(test, options);
  const evaluation = evaluateRules(target.ruleset, context, { explain: true });
  const matched = evaluation.matched.some((candidate) => candidate.id === rule.id);
  const expect = test.expect;
  if (expect.match !== undefined && expect.match !== matched) {
    fail(
      "match",
      expect.match,
      matched,
      matched
        ? "the rule matched but should not have"
        : `the rule did not match: ${whyNot(evaluation, rule)}`,
    );
  }
  if (expect.rules !== undefined) {
    const ids = evaluation.matched.map((candidate) => candidate.id);
    if (!isDeepStrictEqual(ids, expect.rules)) fail("rules", expect.rules, ids, "the matched rules differ");
  }
  const input = { context, payload, rule: { id: rule.id, description: rule.description } };
  const rendered: RenderedAction[] = [];
  if (matched && (expect.forward !== undefined || expect.vobiz !== undefined)) {
    for (const action of rule.compiled) {
      if (action.type === "respond") continue;
      try {
        const output = action.render(input);
        // a vobiz action's params as they would be sent: typed and checked against its schema
        rendered.push(
          output.type === "vobiz"
            ? { ...output, params: finishVobizParams(output.vobiz, output.params) }
            : output,
        );
      } catch (error) {
        fail(
          `actions[${action.index}]`,
          "a rendered action",
          "an error",
          `rendering failed: ${(error as Error).message}`,
        );
      }
    }
  }
  for (const kind of ["forward", "vobiz"] as const) {
    const expected = expect[kind];
    if (expected === undefined) continue;
    const actual = rendered.filter((action) => action.type === kind) as unknown as Array<
      Record<string, unknown>
    >;
    const ok =
      expected.length === actual.length && expected.every((item, i) => partialMatch(item, actual[i] ?? {}));
    if (!ok) {
      const reason = matched
        ? `the rendered ${kind} actions differ`
        : `no ${kind} actions: ${whyNot(evaluation, rule)}`;
      fail(
        kind,
        expected,
        actual.map((item) => pick(item, expected[0] ?? item)),
        reason,
      );
    }
  }
  // every test of an answer request checks the reply as Vobiz XML, whether or not it expects XML
  const responds = matched && rule.compiled.some((action) => action.type === "respond");
  if (
    expect.xml !== undefined ||
    expect.xml_contains !== undefined ||
    (responds && context.meta.route === "answer")
  ) {
    let xml: string;
    try {
      xml = chooseReply(evaluation.matched, { context, payload }, target.defaultReply).xml;
    } catch (error) {
      xml = "";
      fail(
        "xml",
        expect.xml ?? expect.xml_contains,
        "an error",
        `rendering the reply failed: ${(error as Error).message}`,
      );
    }
    const found = xml === "" ? { problems: [], warnings: [] } : inspectVobizXml(xml);
    const invalid = found.problems;
    for (const warning of found.warnings) warnings.push(`${warning.at}: ${warning.message}`);
    if (invalid.length > 0) {
      const found = invalid.map((problem) => `${problem.at}: ${problem.message}`);
      fail("xml", "valid Vobiz XML", found, "the reply is not valid Vobiz XML");
    }
    if (expect.xml !== undefined && xml.trim() !== expect.xml.trim())
      fail("xml", expect.xml, xml, "the reply differs");
    const wanted =
      expect.xml_contains === undefined
        ? []
        : Array.isArray(expect.xml_contains)
          ? expect.xml_contains
          : [expect.xml_contains];
    const missing = wanted.filter((part) => !xml.includes(part));
    if (missing.length > 0)
      fail(
        "xml_contains",
        missing,
        xml,
        `the reply does not contain ${missing.map((part) => JSON.stringify(part)).join(", ")}`,
      );
  }
  return {
    rule: rule.id,
    file: rule.file,
    line: rule.locate(pointer).line,
    pointer,
    name: test.name ?? `test ${index + 1}`,
    passed: failures.length === 0,
    failures,
    ...(warnings.length > 0 ? { warnings } : {}),
  };
}

/** The keys of `actual` that `shape` names (so a failure shows what was compared, not every field). */
function pick(actual: Record<string, unknown>, shape: Record<string, unknown>): Record<string, unknown> {
  const keys = Object.keys(shape);
  return keys.length === 0 ? actual : Object.fromEntries(keys.map((key) => [key, actual[key]]));
}

export function runRuleTests(target: TestTarget, options: ContextOptions): RuleTestResult[] {
  return target.ruleset.rules.flatMap((rule) =>
    rule.tests.map((test, index) => runRuleTest(target, rule, test, index, options)),
  );
}

/** One line per failed expectation: what was expected and what happened. */
export function describeFailure(failure: ExpectationFailure): string {
  return `${failure.message}; expected ${failure.expectation} ${JSON.stringify(failure.expected)}, got ${JSON.stringify(failure.actual)}`;
}
