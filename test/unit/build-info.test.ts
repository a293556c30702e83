import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { buildInfo, gitCommit } from "../../server/build-info.ts";
import { VERSION } from "../../server/version.ts";

test("BUILD_COMMIT is the commit switchboard_build_info reports, with the package version", () => {
  assert.deepEqual(buildInfo("0123abc"), { version: VERSION, commit: "0123abc" });
});

test("outside a git checkout the commit is unknown, not an error", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "switchboard-no-git-"));
  try {
    assert.equal(gitCommit(dir), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
