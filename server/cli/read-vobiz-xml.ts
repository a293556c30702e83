/**
 * A Vobiz XML reply as the steps a call goes through (what `simulate` follows): what the caller hears,
 * where a <Gather>, <Dial> or <Record> sends its result, where a <Redirect> goes, and whether the call
 * ends. Only well-formed replies with one <Response> are read; checkVobizXml says what else is wrong. Pure.
 */
import { XMLParser, XMLValidator } from "fast-xml-parser";

export type Verb =
  | { kind: "speak"; text: string }
  | { kind: "play"; url: string }
  | { kind: "wait"; seconds: string }
  | { kind: "dtmf"; digits: string }
  | { kind: "gather"; action?: string; method: string; inputType: string; prompts: Verb[] }
  | { kind: "redirect"; url: string; method: string }
  | { kind: "dial"; action?: string; method: string; callerId?: string; targets: string[] }
  | { kind: "record"; action?: string; method: string; callbackUrl?: string; callbackMethod: string }
  | { kind: "conference"; name: string }
  | { kind: "hangup"; reason?: string }
  | { kind: "other"; name: string };

type Node = Record<string, unknown> & { ":@"?: Record<string, string> };

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: "",
  parseTagValue: false,
  parseAttributeValue: false,
  processEntities: true,
  ignoreDeclaration: true,
});

const nameOf = (node: Node): string => Object.keys(node).find((key) => key !== ":@") ?? "";
const childrenOf = (node: Node): Node[] => (node[nameOf(node)] as Node[] | undefined) ?? [];
const textOf = (node: Node): string =>
  childrenOf(node)
    .map((child) => (nameOf(child) === "#text" ? String(child["#text"]) : textOf(child)))
    .join("")
    .replace(/\s+/g, " ")
    .trim();

function verbOf(node: Node): Verb | undefined {
  const name = nameOf(node);
  const attrs = node[":@"] ?? {};
  const method = (attrs.method ?? "POST").toUpperCase();
  switch (name) {
    case "#text":
    case "#comment":
      return undefined;
    case "Speak":
      return { kind: "speak", text: textOf(node) };
    case "Play":
      return { kind: "play", url: textOf(node) };
    case "Wait":
      return { kind: "wait", seconds: attrs.length ?? "1" };
    case "DTMF":
      return { kind: "dtmf", digits: textOf(node) };
    case "Gather":
      return {
        kind: "gather",
        ...(attrs.action ? { action: attrs.action } : {}),
        method,
        inputType: attrs.inputType ?? "dtmf",
        prompts: childrenOf(node).flatMap((child) => verbOf(child) ?? []),
      };
    case "Redirect":
      return { kind: "redirect", url: textOf(node), method };
    case "Dial":
      return {
        kind: "dial",
        ...(attrs.action ? { action: attrs.action } : {}),
        method,
        ...(attrs.callerId ? { callerId: attrs.callerId } : {}),
        targets: childrenOf(node)
          .filter((child) => ["Number", "User"].includes(nameOf(child)))
          .map(textOf),
      };
    case "Record":
      return {
        kind: "record",
        ...(attrs.action ? { action: attrs.action } : {}),
        method,
        ...(attrs.callbackUrl ? { callbackUrl: attrs.callbackUrl } : {}),
        callbackMethod: (attrs.callbackMethod ?? "POST").toUpperCase(),
      };
    case "Conference":
      return { kind: "conference", name: textOf(node) };
    case "Hangup":
      return { kind: "hangup", ...(attrs.reason ? { reason: attrs.reason } : {}) };
    default:
      return { kind: "other", name };
  }
}

/** The verbs of a reply in order, or why it cannot be followed. */
export function readVobizXml(xml: string): { verbs: Verb[] } | { error: string } {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) return { error: `not well-formed XML (line ${valid.err.line}: ${valid.err.msg})` };
  const roots = (parser.parse(xml) as Node[]).filter((node) => !["#text", "#comment"].includes(nameOf(node)));
  if (roots.length !== 1 || nameOf(roots[0] ?? {}) !== "Response") {
    return { error: "the reply is not one <Response> element" };
  }
  return { verbs: childrenOf(roots[0] as Node).flatMap((node) => verbOf(node) ?? []) };
}

/** What the caller hears from one verb, in words (undefined for verbs that are not heard). */
export function heard(verb: Verb): string | undefined {
  switch (verb.kind) {
    case "speak":
      return `"${verb.text}"`;
    case "play":
      return `[audio ${verb.url}]`;
    case "wait":
      return `[${verb.seconds} s of silence]`;
    default:
      return undefined;
  }
}
