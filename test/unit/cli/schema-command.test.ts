import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { runCommand } from "../../helpers/cli.ts";
import { REPO } from "../../helpers/rules.ts";

test("schema prints the rule-file JSON Schema that rule files are checked against", async () => {
  const run = await runCommand(["schema"]);
  assert.equal(run.code, 0);
  const published = JSON.parse(
    readFileSync(path.join(REPO, "server/rules/rule-file.schema.json"), "utf8"),
  ) as unknown;
  assert.deepEqual(JSON.parse(run.stdout), published);
});
