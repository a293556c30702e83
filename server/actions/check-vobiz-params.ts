/**
 * A vobiz action's `params` against its action's JSON Schema (vobiz-catalogue.ts), twice:
 * - at load (`checkVobizParams`): unknown params (with the nearest known name), missing ones, and every
 *   value written literally; a value that is a template (`<<…>>`, `{% … %}`) can only be checked once
 *   rendered, so it is left to
 * - send time (`finishVobizParams`): the rendered params, with strings turned into the booleans and
 *   numbers the schema asks for ("true" → true, "60" → 60), checked in full; a failure means nothing is
 *   sent.
 * Pure.
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import { closest, describeSchemaError, usefulErrors } from "../rules/schema-errors.ts";
import { VOBIZ_CATALOGUE, type VobizActionName } from "./vobiz-catalogue.ts";

export interface ParamProblem {
  /** JSON pointer relative to the action */
  pointer: string;
  code: "RULE_VOBIZ_UNKNOWN_PARAM" | "RULE_VOBIZ_PARAM_INVALID";
  message: string;
}

const TEMPLATED = /<<|\{%/;
const isTemplated = (value: unknown): boolean => typeof value === "string" && TEMPLATED.test(value);

const strict = new Ajv2020({ allErrors: true, strict: false, verbose: true });
const coercing = new Ajv2020({ allErrors: true, strict: false, verbose: true, coerceTypes: true });

const cache = new Map<string, ValidateFunction>();
function validator(name: VobizActionName, kind: "load" | "send"): ValidateFunction {
  const key = `${kind}:${name}`;
  let validate = cache.get(key);
  if (validate === undefined) {
    const { schema } = VOBIZ_CATALOGUE[name];
    // at load, `required` is checked by hand (a templated value is present but not checkable)
    validate = kind === "load" ? strict.compile({ ...schema, required: [] }) : coercing.compile(schema);
    cache.set(key, validate);
  }
  return validate;
}

const describe = (errors: readonly ErrorObject[]): Array<{ path: string; message: string }> =>
  usefulErrors(errors).flatMap((error) => {
    const message = describeSchemaError(error);
    return message === undefined ? [] : [{ path: error.instancePath, message }];
  });

function oneOfProblem(vobiz: VobizActionName, params: Record<string, unknown>): string | undefined {
  const spec = VOBIZ_CATALOGUE[vobiz];
  if (spec.oneOf === undefined) return undefined;
  const given = spec.oneOf.filter((name) => params[name] !== undefined && params[name] !== "");
  if (given.length === 0) return `needs one of ${spec.oneOf.map((n) => `"${n}"`).join(" or ")}`;
  if (vobiz === "make_call" && given.length > 1)
    return `give either "flow" (a path below /answer) or "answer_url", not both`;
  return undefined;
}

/** Load-time problems of one action's params (`vobiz` is a known name: the rule-file schema says so). */
export function checkVobizParams(vobiz: VobizActionName, params: Record<string, unknown>): ParamProblem[] {
  const spec = VOBIZ_CATALOGUE[vobiz];
  const known = Object.keys(spec.schema.properties);
  const problems: ParamProblem[] = [];
  const literal: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(params)) {
    if (!known.includes(key)) {
      const guess = closest(key, known);
      problems.push({
        pointer: `/params/${key}`,
        code: "RULE_VOBIZ_UNKNOWN_PARAM",
        message: `${vobiz} has no param "${key}"${guess ? `; did you mean "${guess}"?` : `; its params are ${known.join(", ")}`}`,
      });
    } else if (!isTemplated(value)) literal[key] = value;
  }
  for (const required of spec.schema.required ?? []) {
    if (params[required] === undefined)
      problems.push({
        pointer: "/params",
        code: "RULE_VOBIZ_PARAM_INVALID",
        message: `${vobiz} needs "${required}" (${String(spec.schema.properties[required]?.description)})`,
      });
  }
  const either = oneOfProblem(vobiz, params);
  if (either !== undefined)
    problems.push({ pointer: "/params", code: "RULE_VOBIZ_PARAM_INVALID", message: `${vobiz} ${either}` });
  const validate = validator(vobiz, "load");
  if (!validate(literal)) {
    for (const found of describe(validate.errors ?? []))
      problems.push({
        pointer: `/params${found.path}`,
        code: "RULE_VOBIZ_PARAM_INVALID",
        message: `${vobiz}: ${found.message}`,
      });
  }
  return problems;
}

/**
 * The rendered params made ready to send: typed as the schema says and checked in full. Throws with
 * every problem at once when they do not fit (nothing is sent then).
 */
export function finishVobizParams(
  vobiz: VobizActionName,
  rendered: Record<string, unknown>,
): Record<string, unknown> {
  const params = structuredClone(rendered);
  // an optional param whose template rendered nothing is left out, not sent empty
  const required = new Set(VOBIZ_CATALOGUE[vobiz].schema.required ?? []);
  for (const [key, value] of Object.entries(params))
    if (value === "" && !required.has(key)) delete params[key];
  const validate = validator(vobiz, "send");
  const problems = validate(params) ? [] : describe(validate.errors ?? []);
  const either = oneOfProblem(vobiz, params);
  if (either !== undefined) problems.push({ path: "", message: either });
  if (problems.length > 0)
    throw new Error(
      `the rendered params of ${vobiz} do not fit: ${problems.map((p) => `${p.path || "params"}: ${p.message}`).join("; ")}`,
    );
  return params;
}
