import assert from "node:assert/strict";
import { test } from "node:test";
import {
  actionAttempts,
  actionState,
  decisionField,
  readDecision,
} from "../../../server/events/trace-format.ts";

const version = { hash: "a".repeat(64), commit: null, loadedAt: "2026-12-02T00:00:00.000Z" };

test("a decision without a commit reads back with commit null, and the hash in full", () => {
  const text = decisionField(version, [{ id: "crm", file: "rules/crm.json", line: 3 }], []);
  assert.doesNotMatch(text, /commit/);
  const read = readDecision("evt_1", JSON.parse(text));
  assert.deepEqual(read?.ruleset, { hash: "a".repeat(64), commit: null });
  const withCommit = readDecision(
    "evt_1",
    JSON.parse(decisionField({ ...version, commit: "abc1234" }, [], [])),
  );
  assert.deepEqual(withCommit?.ruleset, { hash: "a".repeat(64), commit: "abc1234" });
});

test("an action state written without attempt (its first) reads as attempt 1; a later one keeps its number", () => {
  const at = Date.parse("2026-12-02T10:00:00.000Z");
  const trace = {
    "a:crm:0": { state: "delivered", status: 200, request: "POST http://x/crm", latencyMs: 5, at },
    "a:crm:1": {
      state: "delivered",
      status: 200,
      request: "POST http://x/crm",
      latencyMs: 5,
      at,
      attempt: 3,
    },
  };
  assert.equal(actionState(trace, "crm", 0)?.attempt, 1);
  assert.equal(actionState(trace, "crm", 0)?.at, "2026-12-02T10:00:00.000Z");
  assert.equal(actionState(trace, "crm", 1)?.attempt, 3);
  assert.deepEqual(
    actionAttempts(trace, "crm", 0).map((a) => a.attempt),
    ["1"],
  );
});
