/**
 * `switchboard test --update`: rewrites a failing test's `expect.xml` with the reply it actually got, like
 * snapshot tools do, editing only that string in the rule file (jsonc-parser keeps the rest of the file,
 * its formatting and comments, as it was).
 */
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { applyEdits, modify, type JSONPath } from "jsonc-parser";
import type { RuleTestResult } from "../rules/run-rule-tests.ts";

export interface XmlUpdate {
  file: string;
  line: number;
  test: string;
}

const segments = (pointer: string): JSONPath =>
  pointer
    .split("/")
    .slice(1)
    .map((part) => part.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part));

/** The rule file a result's `file` (`rules/ivr.json`, labelled with the rules folder's name) names. */
export const ruleFilePath = (rulesDir: string, file: string): string =>
  path.join(rulesDir, ...file.split("/").slice(1));

export async function updateXmlExpectations(
  rulesDir: string,
  results: readonly RuleTestResult[],
): Promise<XmlUpdate[]> {
  const updates: XmlUpdate[] = [];
  const byFile = new Map<string, Array<{ result: RuleTestResult; xml: string }>>();
  for (const result of results) {
    const differs = result.failures.find(
      (failure) =>
        failure.expectation === "xml" && typeof failure.actual === "string" && failure.actual !== "",
    );
    if (differs === undefined || typeof differs.expected !== "string") continue;
    const list = byFile.get(result.file) ?? [];
    list.push({ result, xml: differs.actual as string });
    byFile.set(result.file, list);
  }
  for (const [file, list] of byFile) {
    const full = ruleFilePath(rulesDir, file);
    let text = await readFile(full, "utf8");
    for (const { result, xml } of list) {
      const edits = modify(text, [...segments(result.pointer), "expect", "xml"], xml.trim(), {
        formattingOptions: { insertSpaces: true, tabSize: 2 },
      });
      text = applyEdits(text, edits);
      updates.push({ file, line: result.line, test: result.name });
    }
    await writeFile(full, text);
  }
  return updates;
}
