import assert from "node:assert/strict";
import { test } from "node:test";
import { KNOWN_EVENT_NAMES, isKnownEventName } from "../../../server/events/event-names.ts";
import { EVENT_ALIASES } from "../../../server/events/event-type.ts";
import schema from "../../../server/rules/rule-file-schema.ts";

type Node = Record<string, unknown>;

test("the schema offers exactly the known event names and aliases for on (editors autocomplete them)", () => {
  const rule = (schema.$defs as Record<string, Node>).rule as { properties: Record<string, Node> };
  assert.deepEqual(rule.properties.on?.examples, KNOWN_EVENT_NAMES);
  for (const alias of Object.keys(EVENT_ALIASES)) assert.ok(KNOWN_EVENT_NAMES.includes(alias), alias);
});

test("every key of the rule-file schema has a description (editors show it on hover)", () => {
  const missing: string[] = [];
  const walk = (node: unknown, at: string): void => {
    if (Array.isArray(node)) return node.forEach((item, i) => walk(item, `${at}/${i}`));
    if (node === null || typeof node !== "object") return;
    const properties = (node as Node).properties as Record<string, Node> | undefined;
    for (const [key, value] of Object.entries(properties ?? {})) {
      if (typeof value.description !== "string") missing.push(`${at}/properties/${key}`);
    }
    for (const [key, value] of Object.entries(node)) walk(value, `${at}/${key}`);
  };
  walk(schema, "");
  assert.deepEqual(missing, []);
});

test("known names are matched case-insensitively; custom names only when declared", () => {
  assert.ok(isKnownEventName("HANGUP"));
  assert.ok(isKnownEventName("Call_End"));
  assert.ok(!isKnownEventName("Hangups"));
  assert.ok(isKnownEventName("orderplaced", ["OrderPlaced"]));
});
