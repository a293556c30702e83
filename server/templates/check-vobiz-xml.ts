/**
 * Checks a reply as Vobiz XML (reference/vobiz-platform.md §2): well-formed, one `<Response>` root with no
 * attributes, only Vobiz elements, each under a parent that may hold it, known attributes (a Plivo-ism
 * such as `timeout` on `<Gather>` is named, with what to write instead), and at most 100 KB. Pure.
 */
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { FOREIGN_ATTRIBUTES, FOREIGN_ELEMENTS, MAX_REPLY_BYTES, VOBIZ_ELEMENTS } from "./vobiz-xml-rules.ts";

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

export function checkVobizXml(xml: string): XmlProblem[] {
  const problems: XmlProblem[] = [];
  const size = Buffer.byteLength(xml);
  if (size > MAX_REPLY_BYTES)
    problems.push({ at: "", message: `the reply is ${size} bytes; Vobiz accepts at most 100 KB` });
  const valid = XMLValidator.validate(xml, { allowBooleanAttributes: true });
  if (valid !== true) {
    problems.push({ at: `line ${valid.err.line}`, message: `not well-formed XML: ${valid.err.msg}` });
    return problems;
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
    return problems;
  }
  walk(roots[0] as Node, undefined, "Response", problems);
  return problems;
}

function walk(node: Node, parent: string | undefined, at: string, problems: XmlProblem[]): void {
  const name = nameOf(node) ?? "";
  const rule = VOBIZ_ELEMENTS[name];
  if (rule === undefined) {
    const hint = FOREIGN_ELEMENTS[name];
    problems.push({ at, message: `<${name}> is not a Vobiz element${hint ? `: ${hint}` : ""}` });
    return;
  }
  if (parent !== undefined && !rule.parents.includes(parent)) {
    problems.push({
      at,
      message: `<${name}> cannot be inside <${parent}>; it belongs in ${rule.parents.map((p) => `<${p}>`).join(" or ")}`,
    });
  }
  for (const attribute of Object.keys(node[":@"] ?? {})) {
    if (rule.attributes.includes(attribute)) continue;
    const hint = FOREIGN_ATTRIBUTES[name]?.[attribute];
    problems.push({
      at,
      message: `<${name}> has no attribute "${attribute}"${hint ? `: ${hint}` : rule.attributes.length > 0 ? `; it takes ${rule.attributes.join(", ")}` : "; it takes none"}`,
    });
  }
  const children = (node[name] as Node[] | undefined) ?? [];
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
    walk(child, name, `${at}/${childName}[${n}]`, problems);
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
