/**
 * Checks a reply as Vobiz XML (reference/vobiz-platform.md §2): well-formed, one `<Response>` root with no
 * attributes, only Vobiz elements, each under a parent that may hold it, SSML only inside `<Speak>`,
 * known attributes (a Plivo-ism such as `type` on `<Gather>` is named, with what to write instead), and at
 * most 100 KB. What Vobiz's own documents disagree about (`timeout` on `<Gather>`, `enterSound` on
 * `<Conference>`, `sipHeaders` keys without "X-VH", ...) passes, with a warning saying why and what to
 * write instead. Pure.
 */
import { XMLParser, XMLValidator } from "fast-xml-parser";
import {
  FOREIGN_ATTRIBUTES,
  FOREIGN_ELEMENTS,
  MAX_REPLY_BYTES,
  SSML_ELEMENTS,
  VOBIZ_ELEMENTS,
  sipHeadersWarning,
} from "./vobiz-xml-rules.ts";

export interface XmlProblem {
  /** element path such as Response/Gather[1] */
  at: string;
  message: string;
}

type Node = Record<string, unknown> & { ":@"?: Record<string, string> };

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: "",
  allowBooleanAttributes: true,
  parseTagValue: false,
  parseAttributeValue: false,
  processEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
});

const nameOf = (node: Node): string | undefined => Object.keys(node).find((key) => key !== ":@");

export interface XmlFindings {
  /** what Vobiz would not accept: the reply is refused */
  problems: XmlProblem[];
  /** what Vobiz's documents disagree about: accepted, worth a warning at load */
  warnings: XmlProblem[];
}

/** The problems only: what the answer path and rule tests refuse. */
export function checkVobizXml(xml: string): XmlProblem[] {
  return inspectVobizXml(xml).problems;
}

export function inspectVobizXml(xml: string): XmlFindings {
  const problems: XmlProblem[] = [];
  const warnings: XmlProblem[] = [];
  const found = { problems, warnings };
  const size = Buffer.byteLength(xml);
  if (size > MAX_REPLY_BYTES)
    problems.push({ at: "", message: `the reply is ${size} bytes; Vobiz accepts at most 100 KB` });
  const valid = XMLValidator.validate(xml, { allowBooleanAttributes: true });
  if (valid !== true) {
    problems.push({ at: `line ${valid.err.line}`, message: `not well-formed XML: ${valid.err.msg}` });
    return found;
  }
  const roots = (parser.parse(xml) as Node[]).filter((node) => {
    const name = nameOf(node);
    return name !== undefined && name !== "#text" && name !== "#comment";
  });
  if (roots.length !== 1 || nameOf(roots[0] ?? {}) !== "Response") {
    problems.push({
      at: "",
      message: `the root must be one <Response> element; found ${roots.map((n) => `<${nameOf(n) ?? "?"}>`).join(", ") || "nothing"}`,
    });
    return found;
  }
  walk(roots[0] as Node, undefined, "Response", found);
  return found;
}

const childrenOf = (node: Node, name: string): Node[] => (node[name] as Node[] | undefined) ?? [];

/** SSML inside `<Speak>`: its tags nest freely and hold text; Vobiz elements and anything else do not belong. */
function walkSsml(node: Node, at: string, found: XmlFindings): void {
  for (const child of childrenOf(node, nameOf(node) ?? "")) {
    const name = nameOf(child) ?? "";
    if (name === "#text" || name === "#comment") continue;
    const where = `${at}/${name}`;
    if (!SSML_ELEMENTS.has(name)) {
      found.problems.push({
        at: where,
        message: `<${name}> cannot be inside <Speak>, which holds text or SSML (${[...SSML_ELEMENTS].map((tag) => `<${tag}>`).join(" ")})`,
      });
      continue;
    }
    walkSsml(child, where, found);
  }
}

function walk(node: Node, parent: string | undefined, at: string, found: XmlFindings): void {
  const { problems, warnings } = found;
  const name = nameOf(node) ?? "";
  const rule = VOBIZ_ELEMENTS[name];
  if (rule === undefined) {
    const hint =
      FOREIGN_ELEMENTS[name] ??
      (SSML_ELEMENTS.has(name) ? "it is SSML, which belongs inside <Speak>" : undefined);
    problems.push({ at, message: `<${name}> is not a Vobiz element${hint ? `: ${hint}` : ""}` });
    return;
  }
  if (parent !== undefined && !rule.parents.includes(parent)) {
    const disputed = rule.disputed?.parents?.[parent];
    if (disputed !== undefined) warnings.push({ at, message: `<${name}> inside <${parent}>: ${disputed}` });
    else
      problems.push({
        at,
        message: `<${name}> cannot be inside <${parent}>; it belongs in ${rule.parents.map((p) => `<${p}>`).join(" or ")}`,
      });
  }
  for (const [attribute, value] of Object.entries(node[":@"] ?? {})) {
    if (attribute === "sipHeaders" && rule.attributes.includes(attribute)) {
      const warning = sipHeadersWarning(String(value));
      if (warning !== undefined)
        warnings.push({ at, message: `<${name}> sipHeaders="${value}": ${warning}` });
    }
    if (rule.attributes.includes(attribute)) continue;
    const disputed = rule.disputed?.attributes?.[attribute];
    if (disputed !== undefined) {
      warnings.push({ at, message: `<${name}> ${attribute}: ${disputed}` });
      continue;
    }
    const hint = FOREIGN_ATTRIBUTES[name]?.[attribute];
    problems.push({
      at,
      message: `<${name}> has no attribute "${attribute}"${hint ? `: ${hint}` : rule.attributes.length > 0 ? `; it takes ${rule.attributes.join(", ")}` : "; it takes none"}`,
    });
  }
  if (name === "Speak") {
    walkSsml(node, at, found);
    return;
  }
  const children = childrenOf(node, name);
  const counts = new Map<string, number>();
  for (const child of children) {
    const childName = nameOf(child) ?? "";
    if (childName === "#comment") continue;
    if (childName === "#text") {
      const text = child["#text"];
      if (!rule.text && typeof text === "string" && text.trim() !== "")
        problems.push({ at, message: `<${name}> holds no text; move the words into a <Speak>` });
      continue;
    }
    const n = (counts.get(childName) ?? 0) + 1;
    counts.set(childName, n);
    walk(child, name, `${at}/${childName}[${n}]`, found);
  }
}

/**
 * checkVobizXml remembering the last `size` short replies that passed: an IVR step renders the same XML
 * for most calls, and the check is pure, so a reply seen valid before is valid again.
 */
export function rememberingXmlCheck(size = 256, longest = 8192): (xml: string) => XmlProblem[] {
  const passed = new Set<string>();
  return (xml) => {
    if (passed.has(xml)) return [];
    const problems = checkVobizXml(xml);
    if (problems.length === 0 && xml.length <= longest) {
      if (passed.size >= size) passed.clear();
      passed.add(xml);
    }
    return problems;
  };
}
