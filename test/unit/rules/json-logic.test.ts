import assert from "node:assert/strict";
import { test } from "node:test";
import { EvaluationBudget } from "../../../server/rules/evaluation-budget.ts";
import { applyLogic, bindLogic, checkLogic, zonedTime } from "../../../server/rules/json-logic.ts";

const at = (receivedAt: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  ...extra,
  meta: { receivedAt },
});

test("e164 normalises numbers as Vobiz sends them", () => {
  const india = (logic: unknown): unknown => bindLogic(logic, { defaultCountry: "IN" });
  assert.equal(applyLogic(india({ e164: [{ var: "From" }] }), { From: "919876543210" }), "+919876543210");
  assert.equal(applyLogic(india({ e164: [{ var: "From" }] }), { From: "09876543210" }), "+919876543210");
  assert.equal(
    applyLogic(india({ e164: [{ var: "From" }, "GB"] }), { From: "07971442086" }),
    "+447971442086",
  );
  assert.equal(applyLogic(india({ e164: [{ var: "From" }] }), { From: "anonymous" }), "");
});

test("e164 without a country uses DEFAULT_COUNTRY, bound in at compile time, wherever the operation is", () => {
  const event = { From: "07971442086", Country: "IN" };
  const gb = (logic: unknown): unknown => applyLogic(bindLogic(logic, { defaultCountry: "GB" }), event);
  assert.equal(gb({ e164: [{ var: "From" }] }), "+447971442086");
  assert.equal(gb({ e164: { var: "From" } }), "+447971442086", "a single argument without brackets");
  assert.equal(gb({ and: [true, { "==": [{ e164: [{ var: "From" }] }, "+447971442086"] }] }), true);
  assert.equal(gb({ e164: [{ var: "From" }, "IN"] }), "+917971442086", "a country in the rule wins");
  assert.equal(gb({ e164: [{ var: "From" }, { var: "Country" }] }), "+917971442086");
  assert.equal(
    gb({ e164: [{ var: "From" }, { var: "Missing" }] }),
    "+447971442086",
    "no country: the default",
  );
  const us = bindLogic({ e164: [{ var: "From" }] }, { defaultCountry: "US" });
  assert.equal(applyLogic(us, { From: "4155550123" }), "+14155550123");
  assert.deepEqual(bindLogic({ "==": [{ var: "e164" }, 1] }, { defaultCountry: "US" }), {
    "==": [{ var: "e164" }, 1],
  });
});

test("matches, starts_with, ends_with are false (not errors) on non-strings", () => {
  assert.equal(applyLogic({ matches: [{ var: "To" }, "^91(80|22)"] }, { To: "918040001234" }), true);
  assert.equal(applyLogic({ matches: [{ var: "To" }, "^91(80|22)"] }, { To: "919876543210" }), false);
  assert.equal(applyLogic({ starts_with: [{ var: "From" }, "+91"] }, { From: "+919876543210" }), true);
  assert.equal(applyLogic({ ends_with: [{ var: "From" }, "210"] }, { From: "+919876543210" }), true);
  assert.equal(applyLogic({ starts_with: [{ var: "Missing" }, "+91"] }, {}), false);
});

test("hour_in and weekday_in read the event's receivedAt in a time zone", () => {
  // 2025-01-06T10:00Z is Monday 15:30 in Kolkata and Monday 05:00 in New York
  const data = at("2025-01-06T10:00:00Z");
  assert.equal(applyLogic({ hour_in: ["Asia/Kolkata"] }, data), 15);
  assert.equal(applyLogic({ hour_in: ["America/New_York"] }, data), 5);
  assert.equal(applyLogic({ weekday_in: ["Asia/Kolkata"] }, data), "mon");
  assert.equal(applyLogic({ weekday_in: ["Pacific/Kiritimati"] }, at("2025-01-05T23:00:00Z")), "mon");
  assert.deepEqual(zonedTime(new Date("2025-01-06T18:29:00Z"), "Asia/Kolkata"), {
    hour: 23,
    minute: 59,
    weekday: "mon",
  });
});

test("between_times: start inclusive, end exclusive, and ranges that span midnight", () => {
  const between = (time: string, from: string, to: string): unknown =>
    applyLogic({ between_times: [from, to, "UTC"] }, at(`2025-01-06T${time}:00Z`));
  assert.equal(between("09:00", "09:00", "18:00"), true);
  assert.equal(between("17:59", "09:00", "18:00"), true);
  assert.equal(between("18:00", "09:00", "18:00"), false);
  assert.equal(between("23:30", "22:00", "06:00"), true);
  assert.equal(between("05:59", "22:00", "06:00"), true);
  assert.equal(between("12:00", "22:00", "06:00"), false);
});

test("between_times with a value from event data that is not a time is false, wherever the clock is", () => {
  const between = (time: string, data: Record<string, unknown>): unknown =>
    applyLogic(
      { between_times: [{ var: "From" }, { var: "To" }, "UTC"] },
      at(`2025-01-06T${time}:00Z`, data),
    );
  for (const time of ["00:00", "08:59", "09:00", "12:00", "17:59", "18:00", "23:59"]) {
    assert.equal(between(time, { From: "nine", To: "18:00" }), false, `"nine" to 18:00 at ${time}`);
    assert.equal(between(time, { From: "09:00", To: "six" }), false, `09:00 to "six" at ${time}`);
    assert.equal(between(time, { From: 9, To: "18:00" }), false, `9 to 18:00 at ${time}`);
    assert.equal(between(time, { To: "18:00" }), false, `nothing to 18:00 at ${time}`);
    assert.equal(between(time, { From: "9:00", To: "18:00" }), false, `"9:00" to 18:00 at ${time}`);
    assert.equal(between(time, { From: "24:00", To: "18:00" }), false, `"24:00" to 18:00 at ${time}`);
  }
  assert.equal(between("12:00", { From: "09:00", To: "18:00" }), true, "times from event data still work");
});

test("json-logic-js semantics are kept: loose ==, numeric strings compare as numbers", () => {
  assert.equal(applyLogic({ "==": [{ var: "Digits" }, 1] }, { Digits: "1" }), true);
  assert.equal(applyLogic({ ">": [{ var: "Duration" }, 60] }, { Duration: "95" }), true);
  assert.equal(
    applyLogic({ in: [{ var: "CallStatus" }, ["busy", "no-answer"]] }, { CallStatus: "busy" }),
    true,
  );
});

test("checkLogic refuses unknown operations and unsafe ones, with the JSON pointer of each", () => {
  const problems = checkLogic(
    { and: [{ contains: [1, 2] }, { method: [{ var: "From" }, "toUpperCase"] }, { log: 1 }] },
    "/rules/0/when",
  );
  assert.deepEqual(
    problems.map((p) => [p.code, p.pointer]),
    [
      ["RULE_UNKNOWN_OPERATION", "/rules/0/when/and/0/contains"],
      ["RULE_UNKNOWN_OPERATION", "/rules/0/when/and/1/method"],
      ["RULE_UNKNOWN_OPERATION", "/rules/0/when/and/2/log"],
    ],
  );
  assert.match(problems[1]?.message ?? "", /not allowed in rule files/);
});

test("checkLogic refuses literal arguments that cannot work", () => {
  const codes = (logic: unknown): string[] => checkLogic(logic, "").map((p) => `${p.code} ${p.pointer}`);
  assert.deepEqual(codes({ matches: [{ var: "From" }, "("] }), ["RULE_INVALID_ARGUMENT /matches/1"]);
  assert.deepEqual(codes({ hour_in: ["Mars/Olympus"] }), ["RULE_INVALID_ARGUMENT /hour_in/0"]);
  assert.deepEqual(codes({ between_times: ["9am", "18:00", "UTC"] }), [
    "RULE_INVALID_ARGUMENT /between_times/0",
  ]);
  assert.deepEqual(codes({ between_times: ["09:00", "18:00", { var: "zone" }] }), []);
  assert.deepEqual(codes({ "==": [{ var: "a" }, 1] }), []);
});

test("matches runs in linear time: a catastrophic pattern on a long input answers at once", () => {
  // (a+)+$ backtracks exponentially in a backtracking engine: 30 a's and a b never finish there
  const input = `${"a".repeat(30_000)}b`;
  assert.equal(applyLogic({ matches: [{ var: "x" }, "(a+)+$"] }, { x: input }), false);
  assert.equal(applyLogic({ matches: [{ var: "x" }, "(a+)+$"] }, { x: "a".repeat(30_000) }), true);
  assert.equal(applyLogic({ matches: [{ var: "x" }, "(?i)^CALL-\\d+$"] }, { x: "call-42" }), true);
  assert.deepEqual(checkLogic({ matches: [{ var: "x" }, "(a+)+$"] }, ""), []);
});

test("a matches pattern must be a literal RE2 pattern of the rule: patterns from event data are refused at load", () => {
  const found = (logic: unknown): string[] =>
    checkLogic(logic, "/rules/0/when").map((p) => `${p.code} ${p.pointer}: ${p.message}`);
  const [fromEvent] = found({ matches: [{ var: "x" }, { var: "y" }] });
  assert.match(
    fromEvent ?? "",
    /^RULE_INVALID_ARGUMENT \/rules\/0\/when\/matches\/1: the pattern must be a string/,
  );
  assert.match(found({ matches: [{ var: "x" }, { cat: ["^", { var: "y" }] }] })[0] ?? "", /matches\/1/);
  assert.match(found({ matches: [{ var: "x" }] })[0] ?? "", /takes two arguments/);
  // backreferences and lookaround need backtracking: RE2 has neither
  assert.match(found({ matches: [{ var: "x" }, "(a)\\1"] })[0] ?? "", /not a valid RE2 regular expression/);
  assert.match(found({ matches: [{ var: "x" }, "^(?=91)"] })[0] ?? "", /lookaround/);
});

test("a condition that loops past its deadline is stopped from inside", () => {
  const items = Array.from({ length: 2000 }, (_, i) => i);
  // 2000 comparisons, none true: several thousand sub-conditions, with a budget of nothing at all
  const heavy = { some: [{ var: "items" }, { "==": [{ var: "" }, -1] }] };
  assert.throws(() => applyLogic(heavy, { items }, new EvaluationBudget(0)), { name: "BudgetExceeded" });
  // without a deadline a loop runs to its end
  assert.equal(applyLogic({ some: [{ var: "items" }, { "==": [{ var: "" }, 1999] }] }, { items }), true);
});
