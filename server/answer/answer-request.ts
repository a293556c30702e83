/**
 * The reply to an /answer request (SPEC §4.2 `respond`, §5.2), built in process from the loaded ruleset
 * with no Redis on the way: evaluate, then the first responding rule, the default template, or
 * `<Response/>` (choose-reply.ts). The reply is checked as Vobiz XML. A failing rule or template, an
 * invalid reply, or a reply not ready within ANSWER_BUDGET gets the fallback instead (the rule file's own
 * `fallback`, else templates/fallback.xml): the caller is never left in silence.
 */
import { templateContext, type RenderInput } from "../actions/render-context.ts";
import { buildContext, type ContextOptions } from "../events/build-context.ts";
import type { Evaluated } from "../events/decide-event.ts";
import type { Payload } from "../events/parse-payload.ts";
import type { Logger } from "../logger.ts";
import { evaluateRules, type Evaluation } from "../rules/evaluate-rules.ts";
import type { LoadedRuleset } from "../rules/load-ruleset.ts";
import type { RuleRegistry } from "../rules/rule-registry.ts";
import { rememberingXmlCheck } from "../templates/check-vobiz-xml.ts";
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
  /** the evaluation the reply was chosen by: the event's decision is made from it, not evaluated again */
  evaluated?: Evaluated;
}

export type Answerer = (input: AnswerInput) => AnswerReply;

interface FallbackInput {
  log: Logger;
  loaded: LoadedRuleset;
  render: Omit<RenderInput, "rule">;
  input: AnswerInput;
}

/** The fallback reply: the rule file's own `fallback`, else templates/fallback.xml, else the last resort. */
function fallbackReply(at: FallbackInput, reason: string, error: string, file?: string): AnswerReply {
  at.log.error(
    { eventId: at.input.id, path: at.input.path, reason, error },
    "the answer reply failed; sent the fallback",
  );
  const template =
    (file === undefined ? undefined : at.loaded.fileFallbacks.get(file)) ?? at.loaded.fallbackReply;
  try {
    const xml = template
      ? template.render(templateContext({ ...at.render, rule: { id: "fallback", description: undefined } }))
      : LAST_RESORT_REPLY;
    return { xml, outcome: "fallback", reason, error };
  } catch {
    return { xml: LAST_RESORT_REPLY, outcome: "fallback", reason, error };
  }
}

/** The reply, with the evaluation it was chosen by (the event's decision: the rules are evaluated once). */
function withEvaluation(
  current: Evaluated["current"],
  context: Evaluated["context"],
  evaluation: Evaluation | undefined,
  answered: AnswerReply,
): AnswerReply {
  if (evaluation !== undefined) answered.evaluated = { current, context, evaluation };
  return answered;
}

export function createAnswerer(deps: {
  registry: RuleRegistry<LoadedRuleset>;
  context: ContextOptions;
  budgetMs: number;
  log: Logger;
}): Answerer {
  const checkXml = rememberingXmlCheck();
  return (input) => {
    const started = performance.now();
    const current = deps.registry.current;
    if (current === undefined) return { xml: LAST_RESORT_REPLY, outcome: "fallback", reason: "no_ruleset" };
    const loaded = current.ruleset;
    const context = buildContext(
      {
        id: input.id,
        route: "answer",
        path: input.path,
        query: input.query,
        payload: input.payload,
        receivedAt: input.receivedAt,
      },
      deps.context,
    );
    const render = { context, payload: input.payload };
    const at: FallbackInput = { log: deps.log, loaded, render, input };
    let reply: Reply;
    let file: string | undefined;
    let evaluation: Evaluation | undefined;
    try {
      evaluation = evaluateRules(loaded.ruleset, context);
      reply = chooseReply(evaluation.matched, render, loaded.defaultReply);
      file = evaluation.matched.find((rule) => rule.id === reply?.rule)?.file;
      // a responding rule decided before the budget ran out is the right reply; the default is not, as a
      // rule that was never evaluated might have responded
      const stopped = evaluation.overBudget ? evaluation.errors.at(-1) : undefined;
      if (stopped && reply.source === "default")
        return fallbackReply(
          at,
          "budget",
          `rule ${stopped.id}: ${stopped.error}`,
          loaded.ruleset.rule(stopped.id)?.file,
        );
    } catch (error) {
      return withEvaluation(
        current,
        context,
        evaluation,
        fallbackReply(
          at,
          "template_error",
          (error as Error).message,
          error instanceof ReplyError ? error.file : undefined,
        ),
      );
    }
    if (reply.source !== "empty") {
      const problems = checkXml(reply.xml);
      if (problems.length > 0) {
        return withEvaluation(
          current,
          context,
          evaluation,
          fallbackReply(at, "invalid_xml", problems.map((p) => `${p.at}: ${p.message}`).join("; "), file),
        );
      }
    }
    const elapsed = performance.now() - started;
    if (elapsed > deps.budgetMs)
      return withEvaluation(
        current,
        context,
        evaluation,
        fallbackReply(
          at,
          "budget",
          `the reply took ${Math.round(elapsed)} ms; ANSWER_BUDGET is ${deps.budgetMs} ms`,
          file,
        ),
      );
    const answered: AnswerReply = { xml: reply.xml, outcome: reply.source, ignored: reply.ignored };
    if (reply.rule) answered.rule = reply.rule;
    return withEvaluation(current, context, evaluation, answered);
  };
}
