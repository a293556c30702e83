/**
 * The action job: renders one action of one matched rule at send time (secrets resolved only here) and
 * carries it out. Forwards are sent with undici, retried by Bull with the action's `retry`; a 4xx other
 * than 408/409/425/429 fails at once. Each attempt's outcome is written to the event's trace.
 */
import type { Job } from "bull";
import { request } from "undici";
import { compileActions, type CompiledAction, type RenderedForward } from "../actions/compile-actions.ts";
import { buildContext, type ContextOptions } from "../events/build-context.ts";
import { payloadOf } from "../events/parse-payload.ts";
import type { TraceStore } from "../events/trace-store.ts";
import type { Logger } from "../logger.ts";
import type { Metrics } from "../metrics.ts";
import type { ActionJobData } from "../queue/job-types.ts";
import type { LoadedRuleset } from "../rules/load-ruleset.ts";
import type { RuleRegistry } from "../rules/rule-registry.ts";

export interface ExecuteActionDeps {
  registry: RuleRegistry<LoadedRuleset>;
  traces: TraceStore;
  context: ContextOptions;
  secrets: Readonly<Record<string, string>>;
  userAgent: string;
  metrics: Metrics;
  log: Logger;
}

const RETRYABLE_4XX = new Set([408, 409, 425, 429]);

/** Whether a status counts as delivered under a `success` spec such as "2xx" or "2xx,404". */
export function isSuccess(status: number, success: string): boolean {
  return success
    .split(",")
    .some((part) =>
      part.endsWith("xx") ? Math.floor(status / 100) === Number(part[0]) : Number(part) === status,
    );
}

/** The compiled action: from the loaded ruleset when the job was decided under it, else compiled from the job. */
function compiledAction(data: ActionJobData, registry: ExecuteActionDeps["registry"]): CompiledAction {
  const current = registry.current;
  if (current === undefined) throw new Error("no ruleset is loaded yet");
  if (current.version.hash === data.ruleset.hash) {
    const rule = current.ruleset.ruleset.rules.find((candidate) => candidate.id === data.rule.id);
    const action = rule?.compiled[data.actionIndex];
    if (action) return action;
  }
  const { actions, problems } = compileActions([data.action], {
    pointer: "/actions",
    file: data.rule.file,
    templates: current.ruleset.templates,
    profile: () => undefined,
  });
  const [action] = actions;
  if (action === undefined || problems.length > 0)
    throw new Error(`the action no longer compiles: ${problems.map((p) => p.message).join("; ")}`);
  return action;
}

async function send(forward: RenderedForward, idempotencyKey: string, userAgent: string): Promise<number> {
  const headers: Record<string, string> = {
    "user-agent": userAgent,
    "idempotency-key": idempotencyKey,
    ...forward.headers,
  };
  if (forward.content_type !== undefined) headers["content-type"] = forward.content_type;
  const response = await request(forward.url, {
    method: forward.method as "POST",
    headers,
    body: forward.body,
    headersTimeout: forward.timeoutMs,
    bodyTimeout: forward.timeoutMs,
  });
  await response.body.dump();
  return response.statusCode;
}

export function createActionExecutor(deps: ExecuteActionDeps): (job: Job<ActionJobData>) => Promise<void> {
  return async (job) => {
    const { data } = job;
    const attempt = job.attemptsMade + 1;
    const log = deps.log.child({
      eventId: data.event.id,
      rule: data.rule.id,
      jobId: job.id,
      attempt: `${attempt} of ${job.opts.attempts ?? 1}`,
    });
    const record = (fields: Record<string, unknown>): Promise<boolean> =>
      deps.traces.update(data.event.id, {
        [`action:${String(job.id)}`]: JSON.stringify({ ...fields, attempt, at: new Date().toISOString() }),
      });
    const action = compiledAction(data, deps.registry);
    if (action.type !== "forward") {
      const note = `${action.type} actions are not carried out by this version`;
      await record({ state: "skipped", note });
      deps.metrics.actions.inc({ type: action.type, outcome: "skipped" });
      log.warn(note);
      return;
    }
    const payload = payloadOf(data.event);
    const context = buildContext({ ...data.event, payload }, deps.context);
    const forward = action.render({
      context,
      payload,
      raw: { text: data.event.raw, contentType: data.event.contentType },
      secrets: deps.secrets,
      rule: { id: data.rule.id, description: data.rule.description },
      attempt,
    }) as RenderedForward;
    const started = performance.now();
    let status: number;
    try {
      status = await send(forward, String(job.id), deps.userAgent);
    } catch (error) {
      await record({
        state: "retrying",
        error: (error as Error).message,
        latencyMs: Math.round(performance.now() - started),
      });
      log.warn(
        { error: (error as Error).message, host: new URL(forward.url).host },
        "forward failed; will retry",
      );
      throw error;
    }
    const latencyMs = Math.round(performance.now() - started);
    const request = `${forward.method} ${new URL(forward.url).origin}${new URL(forward.url).pathname}`;
    if (isSuccess(status, forward.success)) {
      await record({ state: "delivered", request, status, latencyMs });
      deps.metrics.actions.inc({ type: "forward", outcome: "delivered" });
      log.info({ status, latencyMs, request }, "forward delivered");
      return;
    }
    const permanent = status >= 400 && status < 500 && !RETRYABLE_4XX.has(status);
    await record({ state: permanent ? "failed" : "retrying", request, status, latencyMs });
    log.warn({ status, latencyMs, request, permanent }, "forward refused by the destination");
    if (permanent) {
      void job.discard();
      deps.metrics.actions.inc({ type: "forward", outcome: "failed" });
    }
    throw new Error(`the destination answered ${status}`);
  };
}
