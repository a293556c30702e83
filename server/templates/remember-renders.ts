/**
 * Remembered renders for templates whose output depends only on a few named values. Most IVR replies read
 * nothing from the caller (`<< meta.public_url >>`, a rule's `vars`): the welcome menu is the same XML for
 * every call, so it is rendered once per ruleset and the next calls reuse it.
 *
 * A template qualifies when its syntax tree holds only output, literals, variable paths with literal keys
 * (`meta.public_url`, `vars_name`), conditions and arithmetic over them, and filters known to be pure.
 * Anything else (`{% set %}`, loops, macros, includes, function calls, tests, unknown filters) renders
 * every time. The values of the paths are the key, so a render is only reused for the same values. Pure.
 */
import nunjucks from "nunjucks";

/** nunjucks' built-in filters without side effects or randomness, and ours (template-environment.ts). */
const PURE_FILTERS: ReadonlySet<string> = new Set([
  "abs", "capitalize", "center", "d", "default", "dump", "e", "e164", "escape", "first", "float", "indent",
  "int", "join", "last", "length", "lower", "nl2br", "replace", "round", "safe", "sb_header", "sb_json",
  "sb_url", "string", "striptags", "title", "trim", "truncate", "upper", "urlencode", "wordcount",
]); // prettier-ignore

/** Node types that only combine the values below them. */
const PLAIN_NODES: ReadonlySet<string> = new Set([
  "Root", "NodeList", "Output", "TemplateData", "Literal", "If", "InlineIf", "Compare", "CompareOperand",
  "And", "Or", "Not", "Group", "Add", "Concat", "Sub", "Mul", "Div", "FloorDiv", "Mod", "Pow", "Neg", "Pos",
  "In", "Array", "Dict", "Pair", "KeywordArgs",
]); // prettier-ignore

interface AstNode {
  typename: string;
  fields: readonly string[];
  value?: unknown;
  [field: string]: unknown;
}

const isNode = (value: unknown): value is AstNode =>
  typeof value === "object" && value !== null && typeof (value as AstNode).typename === "string";

type Path = readonly string[];

/** `a.b["c"]` as ["a", "b", "c"]; undefined when a key is not a literal. */
function pathOf(node: AstNode): Path | undefined {
  if (node.typename === "Symbol") return [String(node.value)];
  if (node.typename !== "LookupVal") return undefined;
  const target = isNode(node.target) ? pathOf(node.target) : undefined;
  const key = node.val;
  if (target === undefined || !isNode(key) || key.typename !== "Literal") return undefined;
  return [...target, String(key.value)];
}

/** The variable paths a template reads, or undefined when its output may depend on more than them. */
export function readPaths(source: string, lexerOptions: object): Path[] | undefined {
  let root: unknown;
  try {
    root = (
      nunjucks as unknown as { parser: { parse(src: string, ext: unknown[], opts: object): unknown } }
    ).parser.parse(source, [], lexerOptions);
  } catch {
    return undefined;
  }
  const paths = new Map<string, Path>();
  const visit = (node: AstNode): boolean => {
    if (node.typename === "Symbol" || node.typename === "LookupVal") {
      const path = pathOf(node);
      if (path === undefined) return false;
      paths.set(JSON.stringify(path), path);
      return true;
    }
    if (node.typename === "Filter") {
      const name = node.name;
      if (!isNode(name) || !PURE_FILTERS.has(String(name.value))) return false;
      return isNode(node.args) && visit(node.args);
    }
    if (!PLAIN_NODES.has(node.typename)) return false;
    for (const field of node.fields) {
      const value = node[field];
      const children = Array.isArray(value) ? value : [value];
      for (const child of children) if (isNode(child) && !visit(child)) return false;
    }
    return true;
  };
  return isNode(root) && visit(root) ? [...paths.values()] : undefined;
}

function valueAt(context: object, path: Path): unknown {
  let value: unknown = context;
  for (const key of path) {
    if (value === null || value === undefined) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** undefined, null, 1 and "1" render differently, so they key differently */
function keyPart(value: unknown): string {
  if (value === undefined) return "\u0000undefined";
  if (typeof value === "function" || typeof value === "symbol") return `\u0000${String(value)}`;
  return JSON.stringify(value);
}

/**
 * `render`, remembering up to `size` outputs by the values of `paths`. Errors are not remembered: a
 * render that throws (an undefined value) throws again next time.
 */
export function rememberRenders(
  render: (context: object) => string,
  paths: readonly Path[],
  size = 64,
): (context: object) => string {
  const outputs = new Map<string, string>();
  return (context) => {
    let key = "";
    for (const path of paths) key += `${keyPart(valueAt(context, path))}\u0001`;
    const remembered = outputs.get(key);
    if (remembered !== undefined) return remembered;
    const output = render(context);
    if (outputs.size >= size) outputs.clear();
    outputs.set(key, output);
    return output;
  };
}
