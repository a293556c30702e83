/**
 * The reply to an /answer request (SPEC §4.2 `respond`, §5.2), built in process from the loaded ruleset
 * with no Redis on the way: evaluate, then the first responding rule, the default template, or
 * `<Response/>` (choose-reply.ts). The reply is checked as Vobiz XML. A failing rule or template, an
 * invalid reply, or a reply not ready within ANSWER_BUDGET gets the fallback instead (the rule file's own
 * `fallback`, else templates/fallback.xml): the caller is never left in silence.
 */
import { templateContext } from "../actions/render-context.ts";
import { buildContext, type ContextOptions } from "../events/build-context.ts";
import type { Payload } from "../events/parse-payload.ts";
import type { Logger } from "../logger.ts";
import { evaluateRules } from "../rules/evaluate-rules.ts";
import type { LoadedRuleset } from "../rules/load-ruleset.ts";
import type { RuleRegistry } from "../rules/rule-registry.ts";
import { checkVobizXml } from "../templates/check-vobiz-xml.ts";
import { ReplyError, chooseReply, type Reply } from "./choose-reply.ts";

/** Said when even the fallback template cannot be rendered. */
export const LAST_RESORT_REPLY =
  '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Speak>We are sorry, we cannot take your call right now. Please try again later.</Speak><Hangup/></Response>\n';

export interface AnswerInput {
  id: string;
  path: string;
  query: Record<string, string | string[]>;
  payload: Payload;
  receivedAt: string;
}

export interface AnswerReply {
  xml: string;
  /** rule, default, empty (events that expect no XML) or fallback */
  outcome: "rule" | "default" | "empty" | "fallback";
  rule?: string;
  /** why the fallback was sent: template_error, invalid_xml, budget, no_ruleset */
  reason?: string;
  error?: string;
  ignored?: string[];
}

export type Answerer = (input: AnswerInput) => AnswerReply;

export function createAnswerer(deps: {
  registry: RuleRegistry<LoadedRuleset>;
  context: ContextOptions;
  budgetMs: number;
  log: Logger;
}): Answerer {
  return (input) => {
    const started = performance.now();
    const current = deps.registry.current;
    if (current === undefined) return { xml: LAST_RESORT_REPLY, outcome: "fallback", reason: "no_ruleset" };
    const loaded = current.ruleset;
    const context = buildContext({ ...input, route: "answer" }, deps.context);
    const render = { context, payload: input.payload };
    const fallback = (reason: string, error: string, file?: string): AnswerReply => {
      deps.log.error(
        { eventId: input.id, path: input.path, reason, error },
        "the answer reply failed; sent the fallback",
      );
      const template =
        (file === undefined ? undefined : loaded.fileFallbacks.get(file)) ?? loaded.fallbackReply;
      try {
        const xml = template
          ? template.render(templateContext({ ...render, rule: { id: "fallback", description: undefined } }))
          : LAST_RESORT_REPLY;
        return { xml, outcome: "fallback", reason, error };
      } catch {
        return { xml: LAST_RESORT_REPLY, outcome: "fallback", reason, error };
      }
    };
    let reply: Reply;
    let file: string | undefined;
    try {
      const evaluation = evaluateRules(loaded.ruleset, context);
      reply = chooseReply(evaluation.matched, render, loaded.defaultReply);
      file = evaluation.matched.find((rule) => rule.id === reply?.rule)?.file;
    } catch (error) {
      return fallback(
        "template_error",
        (error as Error).message,
        error instanceof ReplyError ? error.file : undefined,
      );
    }
    if (reply.source !== "empty") {
      const problems = checkVobizXml(reply.xml);
      if (problems.length > 0) {
        return fallback("invalid_xml", problems.map((p) => `${p.at}: ${p.message}`).join("; "), file);
      }
    }
    const elapsed = performance.now() - started;
    if (elapsed > deps.budgetMs)
      return fallback(
        "budget",
        `the reply took ${Math.round(elapsed)} ms; ANSWER_BUDGET is ${deps.budgetMs} ms`,
        file,
      );
    return {
      xml: reply.xml,
      outcome: reply.source,
      ...(reply.rule ? { rule: reply.rule } : {}),
      ignored: reply.ignored,
    };
  };
}
