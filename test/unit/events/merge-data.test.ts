import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { mergeData } from "../../../server/events/merge-data.ts";

describe("mergeData", () => {
  it("merges shallowly, later parts winning, skipping undefined parts", () => {
    const merged = mergeData<Record<string, unknown>>({ a: 1, b: 1 }, undefined, { b: 2, c: 3 });
    assert.deepEqual(merged, { a: 1, b: 2, c: 3 });
  });

  it("does not change its inputs", () => {
    const first = { a: 1 };
    mergeData(first, { a: 2 });
    assert.deepEqual(first, { a: 1 });
  });

  it("keeps an own __proto__ key as plain data, never as the prototype", () => {
    const hostile = JSON.parse('{"__proto__": {"polluted": true}, "From": "1"}') as object;
    const merged = mergeData<Record<string, unknown>>({ To: "2" }, hostile, { extra: 1 });
    assert.equal(Object.getPrototypeOf(merged), Object.prototype);
    assert.equal((merged as { polluted?: unknown }).polluted, undefined);
    assert.deepEqual(Object.keys(merged).sort(), ["From", "To", "__proto__", "extra"]);
    assert.deepEqual(Object.getOwnPropertyDescriptor(merged, "__proto__")?.value, { polluted: true });
    assert.equal(({} as { polluted?: unknown }).polluted, undefined);
  });
});
