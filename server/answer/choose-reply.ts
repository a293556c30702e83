/**
 * The XML an /answer request gets (SPEC §4.2 `respond`, §5.2): `<Response/>` for events that expect no
 * XML; else the first matched rule (in evaluation order) with a respond action; else the default
 * template. Later respond actions are ignored and named, so the trace can say so. Pure; a rendering
 * error is thrown for the caller to fall back on.
 */
import type { RenderedRespond } from "../actions/compile-actions.ts";
import type { RenderInput } from "../actions/render-context.ts";
import { templateContext } from "../actions/render-context.ts";
import type { CompiledRule } from "../rules/compile-ruleset.ts";
import type { CompiledTemplate } from "../templates/template-environment.ts";
import { EMPTY_RESPONSE, expectsXml } from "./answer-reply.ts";

export interface Reply {
  xml: string;
  source: "rule" | "default" | "empty";
  /** the responding rule */
  rule?: string;
  /** rules whose respond action was not used because an earlier rule responded */
  ignored: string[];
}

/** A responding rule's template failed; names the rule (and its file, whose own fallback applies). */
export class ReplyError extends Error {
  constructor(
    message: string,
    readonly rule: string,
    readonly file: string,
  ) {
    super(message);
    this.name = "ReplyError";
  }
}

export function chooseReply(
  matched: readonly CompiledRule[],
  input: Pick<RenderInput, "context" | "payload">,
  defaultReply: CompiledTemplate | undefined,
): Reply {
  if (!expectsXml(input.context.meta.type)) return { xml: EMPTY_RESPONSE, source: "empty", ignored: [] };
  const responding = matched.filter((rule) => rule.compiled.some((action) => action.type === "respond"));
  const [first, ...rest] = responding;
  const ignored = rest.map((rule) => rule.id);
  if (first === undefined) {
    const xml = defaultReply
      ? defaultReply.render(templateContext({ ...input, rule: { id: "default", description: undefined } }))
      : EMPTY_RESPONSE;
    return { xml, source: "default", ignored };
  }
  const action = first.compiled.find((candidate) => candidate.type === "respond");
  try {
    const rendered = action?.render({
      context: input.context,
      payload: input.payload,
      rule: { id: first.id, description: first.description },
    }) as RenderedRespond;
    return { xml: rendered.xml, source: "rule", rule: first.id, ignored };
  } catch (error) {
    throw new ReplyError((error as Error).message, first.id, first.file);
  }
}
