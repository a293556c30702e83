/**
 * The reply to an /answer request, built in process from the loaded ruleset: evaluate, then the first
 * responding rule, the default template, or `<Response/>` (choose-reply.ts). A failing rule or template
 * gets the fallback reply instead, with the error logged: the caller is never left in silence.
 */
import { buildContext, type ContextOptions } from "../events/build-context.ts";
import type { IngestResult } from "../events/ingest.ts";
import type { Logger } from "../logger.ts";
import { evaluateRules } from "../rules/evaluate-rules.ts";
import type { LoadedRuleset } from "../rules/load-ruleset.ts";
import type { RuleRegistry } from "../rules/rule-registry.ts";
import { templateContext } from "../actions/render-context.ts";
import { chooseReply } from "./choose-reply.ts";

/** Said when even the fallback template cannot be rendered. */
export const LAST_RESORT_REPLY =
  '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Speak>We are sorry, we cannot take your call right now. Please try again later.</Speak><Hangup/></Response>\n';

export function createAnswerer(deps: {
  registry: RuleRegistry<LoadedRuleset>;
  context: ContextOptions;
  log: Logger;
}): (result: IngestResult) => string {
  return (result) => {
    const current = deps.registry.current;
    if (current === undefined) return LAST_RESORT_REPLY;
    const context = buildContext({ ...result.job, payload: result.payload }, deps.context);
    const input = { context, payload: result.payload };
    try {
      const evaluation = evaluateRules(current.ruleset.ruleset, context);
      return chooseReply(evaluation.matched, input, current.ruleset.defaultReply).xml;
    } catch (error) {
      deps.log.error(
        { err: error, eventId: result.id, path: result.job.path },
        "the answer reply failed; sent the fallback",
      );
      try {
        const fallback = current.ruleset.fallbackReply;
        return fallback
          ? fallback.render(templateContext({ ...input, rule: { id: "fallback", description: undefined } }))
          : LAST_RESORT_REPLY;
      } catch {
        return LAST_RESORT_REPLY;
      }
    }
  };
}
