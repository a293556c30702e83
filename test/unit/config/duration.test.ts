import assert from "node:assert/strict";
import { test } from "node:test";
import { formatDuration, parseDuration } from "../../../server/config/duration.ts";

test("durations convert to milliseconds", () => {
  assert.equal(parseDuration("500ms"), 500);
  assert.equal(parseDuration("3s"), 3000);
  assert.equal(parseDuration("5m"), 300_000);
  assert.equal(parseDuration("2h"), 7_200_000);
  assert.equal(parseDuration("7d"), 604_800_000);
  assert.equal(parseDuration("1.5s"), 1500);
});

test("anything else is not a duration", () => {
  for (const text of ["", "5", "5 sec", "-1s", "1w", "ms", "1e3ms"])
    assert.equal(parseDuration(text), undefined, text);
});

test("formatDuration picks the largest whole unit", () => {
  assert.equal(formatDuration(604_800_000), "7d");
  assert.equal(formatDuration(1500), "1500ms");
  assert.equal(formatDuration(120_000), "2m");
});
