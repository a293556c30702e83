import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { AppError, ERROR_CATALOGUE } from "../../server/errors.ts";

test("the error-code table (docs/error-codes.md) lists exactly the catalogue's codes, with their statuses", () => {
  const page = readFileSync(path.resolve(import.meta.dirname, "../../docs/error-codes.md"), "utf8");
  const section = page.split(/^# Error codes$/m)[1]?.split(/^## /m)[0];
  assert.ok(section, "docs/error-codes.md starts with '# Error codes' and the table of codes");
  const rows = [...section.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])]);
  const documented = Object.fromEntries(rows) as Record<string, number>;
  const catalogue = Object.fromEntries(
    Object.entries(ERROR_CATALOGUE).map(([code, entry]) => [code, entry.status]),
  );
  assert.deepEqual(documented, catalogue);
});

test("AppError carries code, status, expose and details from the catalogue", () => {
  const error = new AppError("BODY_TOO_LARGE", undefined, { details: { limit: 65536 } });
  assert.equal(error.code, "BODY_TOO_LARGE");
  assert.equal(error.status, 413);
  assert.equal(error.expose, true);
  assert.equal(error.message, ERROR_CATALOGUE.BODY_TOO_LARGE.message);
  assert.deepEqual(error.details, { limit: 65536 });
});

test("every catalogue message says something and a 500 is never exposed (502/503 say what to do)", () => {
  for (const [code, entry] of Object.entries(ERROR_CATALOGUE)) {
    assert.ok(entry.message.length > 10, code);
    if (entry.status === 500) assert.equal(entry.expose, false, code);
  }
});
