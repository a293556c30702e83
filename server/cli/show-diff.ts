/**
 * Expected-vs-actual diffs for rule test failures, made by node:assert (the diff Node's own test runner
 * prints): values are compared structurally; text such as an XML reply is compared line by line and
 * shown without quotes. Pure.
 */
import { AssertionError } from "node:assert";

const QUOTED_LINE = /^([+-]|\s)(\s*)(['"`])(.*)\3,?$/;

function unquote(line: string): string {
  const found = QUOTED_LINE.exec(line);
  if (!found) return line;
  const [, sign = " ", , , text = ""] = found;
  return `${sign} ${text.replace(/\\(['"`\\])/g, "$1")}`;
}

/** Lines of a `+ actual - expected` diff (the first line says so). */
export function diffLines(expected: unknown, actual: unknown): string[] {
  const isText = typeof expected === "string" && typeof actual === "string";
  const error = new AssertionError({
    actual: isText ? actual.split("\n") : actual,
    expected: isText ? expected.split("\n") : expected,
    operator: "deepStrictEqual",
  });
  const lines = error.message.split("\n").slice(1);
  const body = lines.filter((line) => line !== "");
  if (!isText) return body;
  // a text diff is an array of lines: drop the brackets and the quoting
  return body.filter((line) => !/^[+-]?\s*[[\]]$/.test(line)).map(unquote);
}
