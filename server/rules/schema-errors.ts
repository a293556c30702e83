/**
 * ajv errors, said so that a rule author who is not a programmer knows what to change: the unknown key
 * and the nearest known one, the allowed values, what the value should look like.
 */
import type { ErrorObject } from "ajv";

/** The candidate nearest to `word` (edit distance, case-insensitive), when one is near enough to be a typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i += 1) {
    let previous = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j += 1) {
      const current = row[j] ?? 0;
      row[j] = Math.min((row[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length] ?? 0;
}

const show = (value: unknown): string => (typeof value === "string" ? `"${value}"` : JSON.stringify(value));

interface SchemaLike {
  description?: string;
  properties?: Record<string, unknown>;
}

/** One message for one ajv error, or undefined when a clearer sibling error says it already. */
export function describeSchemaError(error: ErrorObject): string | undefined {
  const parent = (error.parentSchema ?? {}) as SchemaLike;
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case "required":
      return `missing "${String(params.missingProperty)}"`;
    case "additionalProperties": {
      const key = String(params.additionalProperty);
      const known = Object.keys(parent.properties ?? {}).filter((name) => name !== "$schema");
      const guess = closest(key, known);
      return `unknown key "${key}"${guess ? `; did you mean "${guess}"?` : known.length > 0 ? `; allowed: ${known.join(", ")}` : ""}`;
    }
    case "enum":
      return `${show(error.data)} is not allowed; use one of ${(params.allowedValues as unknown[]).map(show).join(", ")}`;
    case "const":
      return `must be ${show(params.allowedValue)}`;
    case "type":
      return `must be ${String(params.type).replace(/,/g, " or ")}, not ${describeType(error.data)}`;
    case "pattern":
    case "format":
      return `${show(error.data)} is not ${parent.description ?? `in the expected form (${String(params.pattern ?? params.format)})`}`;
    case "minItems":
      return `needs at least ${String(params.limit)} item(s)`;
    case "maxItems":
      return `has more than ${String(params.limit)} items`;
    case "minLength":
      return "must not be empty";
    case "minProperties":
      return `needs at least ${String(params.limit)} key(s)`;
    case "minimum":
    case "maximum":
      return `must be ${error.keyword === "minimum" ? "at least" : "at most"} ${String(params.limit)}`;
    case "discriminator":
      return params.error === "mapping"
        ? `action "type" ${show(params.tagValue)} is not known; use "forward", "respond" or "vobiz"`
        : `an action needs a "type": "forward", "respond" or "vobiz"`;
    case "anyOf":
    case "oneOf": {
      const expected = parent.description ?? "";
      if (/^an? /.test(expected)) return `must be ${expected}`;
      return expected || "does not match any allowed form";
    }
    case "propertyName":
      return undefined; // the pattern error on the name says it
    default:
      return error.message ?? error.keyword;
  }
}

function describeType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  return typeof value === "object" ? "an object" : `${typeof value} ${show(value)}`;
}

/**
 * Keeps the errors worth showing: for a oneOf/anyOf whose branches all failed, ajv reports every branch;
 * the parent's description says it better, so the branch errors under the same path are dropped.
 */
export function usefulErrors(errors: readonly ErrorObject[]): ErrorObject[] {
  const unions = new Set(
    errors
      .filter((e) => e.keyword === "oneOf" || e.keyword === "anyOf")
      .map((e) => `${e.instancePath}|${e.schemaPath}`),
  );
  // a misspelt key explains the "missing" error for the key it was meant to be
  const misspelt = errors.flatMap((e) => {
    if (e.keyword !== "additionalProperties") return [];
    const known = Object.keys(((e.parentSchema ?? {}) as SchemaLike).properties ?? {});
    const guess = closest(String((e.params as { additionalProperty?: unknown }).additionalProperty), known);
    return guess === undefined ? [] : [`${e.instancePath}|${guess}`];
  });
  const explained = new Set(misspelt);
  const discriminated = new Set(
    errors.filter((e) => e.keyword === "discriminator").map((e) => `${e.instancePath}/type`),
  );
  return errors.filter((error) => {
    if (discriminated.has(error.instancePath)) return false; // the discriminator error names the bad type
    if (
      error.keyword === "required" &&
      explained.has(
        `${error.instancePath}|${String((error.params as { missingProperty?: unknown }).missingProperty)}`,
      )
    ) {
      return false;
    }
    if (error.keyword === "oneOf" || error.keyword === "anyOf" || error.keyword === "if") return true;
    for (const union of unions) {
      const [path, schemaPath] = union.split("|") as [string, string];
      const branchPrefix = schemaPath.replace(/\/(oneOf|anyOf)$/, "");
      if (
        error.instancePath.startsWith(path) &&
        error.schemaPath.startsWith(`${branchPrefix}/`) &&
        error.schemaPath !== schemaPath
      ) {
        return false;
      }
    }
    return true;
  });
}
