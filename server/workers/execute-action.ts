/**
 * The action job (SPEC §4.2): renders one action of one matched rule at send time (secrets resolved only
 * here) and carries it out. A forward is one HTTP attempt per run; Bull retries it with the action's
 * backoff. Before each attempt the destination host's circuit breaker is asked: while it is open the job
 * is deferred, which costs no attempt. After the last attempt (or a permanent failure) the fallback URL
 * is tried once; if that fails too, the delivery goes to the dead letters with its whole history.
 * Every attempt (time, request line, status, latency, error; never headers or bodies) is in the trace.
 */
import type { Job } from "bull";
import { compileActions, type CompiledAction, type RenderedForward } from "../actions/compile-actions.ts";
import type { Breakers } from "../actions/circuit-breaker.ts";
import type { DeadLetters } from "../actions/dead-letters.ts";
import { parseTarget, sendForward, type AttemptOutcome } from "../actions/send-forward.ts";
import { buildContext, type ContextOptions, type EventContext } from "../events/build-context.ts";
import { payloadOf, type Payload } from "../events/parse-payload.ts";
import type { TraceStore } from "../events/trace-store.ts";
import type { Logger } from "../logger.ts";
import type { Metrics } from "../metrics.ts";
import { actionJobId, type ActionJobData } from "../queue/job-types.ts";
import type { LoadedRuleset } from "../rules/load-ruleset.ts";
import type { RuleRegistry } from "../rules/rule-registry.ts";
import { RetryLater } from "./action-job-options.ts";

export interface ExecuteActionDeps {
  registry: RuleRegistry<LoadedRuleset>;
  traces: TraceStore;
  breakers: Breakers;
  deadLetters: DeadLetters;
  context: ContextOptions;
  secrets: Readonly<Record<string, string>>;
  userAgent: string;
  metrics: Metrics;
  log: Logger;
}

/** The compiled action: from the loaded ruleset when the job was decided under it, else compiled from the job. */
function compiledAction(data: ActionJobData, registry: ExecuteActionDeps["registry"]): CompiledAction {
  const current = registry.current;
  if (current === undefined) throw new Error("no ruleset is loaded yet");
  if (current.version.hash === data.ruleset.hash) {
    const action = current.ruleset.ruleset.rule(data.rule.id)?.compiled[data.actionIndex];
    if (action) return action;
  }
  const { actions, problems } = compileActions([data.action], {
    pointer: "/actions",
    file: data.rule.file,
    templates: current.ruleset.templates,
    profile: () => undefined,
  });
  const [action] = actions;
  if (action === undefined || problems.length > 0) {
    throw new Error(`the action no longer compiles: ${problems.map((p) => p.message).join("; ")}`);
  }
  return action;
}

/** `secrets.NAME` → its value; the Standard Webhooks secret of a forward (its own, else SECRET_WEBHOOK_SIGNING). */
function signingSecret(
  forward: RenderedForward,
  secrets: Readonly<Record<string, string>>,
): string | undefined {
  const ref = forward.signing_secret;
  if (ref !== undefined) return secrets[ref.replace(/^secrets\./, "")];
  return secrets.WEBHOOK_SIGNING;
}

const hostOf = (url: URL | undefined): string => url?.host ?? "(invalid URL)";

/** Moves the job back to wait `waitMs` without spending an attempt (Bull counts every failure). */
async function defer(job: Job<ActionJobData>, waitMs: number, attempt: number): Promise<never> {
  job.opts.attempts = (job.opts.attempts ?? 1) + 1;
  await job.update({ ...job.data, deferrals: (job.data.deferrals ?? 0) + 1 });
  const queue = job.queue as unknown as {
    client: { hset(key: string, field: string, value: string): Promise<number> };
    toKey(id: string): string;
  };
  await queue.client.hset(queue.toKey(String(job.id)), "opts", JSON.stringify(job.opts));
  throw new RetryLater(`circuit breaker open for this host; deferred ${waitMs} ms`, attempt, waitMs, true);
}

/**
 * A delivered action's trace fields (its attempt and its state): the caller writes them with the job's
 * completion (the queue's handler just before it, inline deliveries in the same script).
 */
export interface ActionDone {
  eventId: string;
  trace: Record<string, string>;
}

/** What the request path already knows of an event it decided (ROLE=all): spares parsing it again. */
export interface PreparedEvent {
  payload: Payload;
  context: EventContext;
}

export type ActionExecutor = (
  job: Job<ActionJobData>,
  prepared?: PreparedEvent,
) => Promise<ActionDone | undefined>;

/** bull's handler for queued action jobs: runs the action, then writes a delivery's trace fields. */
export function queuedActionHandler(
  execute: ActionExecutor,
  traces: TraceStore,
  metrics: Metrics,
): (job: Job<ActionJobData>) => Promise<void> {
  const runs = metrics.actionRuns.labels({ started: "queue" });
  return async (job) => {
    runs.inc();
    const done = await execute(job);
    if (done !== undefined) await traces.update(done.eventId, done.trace);
  };
}

/** One run of an action job: what its steps share (plain data; the hot path makes no closures). */
interface Run {
  deps: ExecuteActionDeps;
  job: Job<ActionJobData>;
  data: ActionJobData;
  /** the job id: event, rule and action index (also the Idempotency-Key) */
  id: string;
  attempt: number;
  attempts: number;
  /** made only when a line is logged through it: a child logger per delivery cost as much as the line */
  log: Logger | undefined;
}

function logFields(run: Run): Record<string, unknown> {
  return {
    eventId: run.data.event.id,
    rule: run.data.rule.id,
    jobId: run.job.id,
    attempt: `${run.attempt} of ${run.attempts}`,
  };
}

const logOf = (run: Run): Logger => (run.log ??= run.deps.log.child(logFields(run)));

/** the action's state field in the trace */
const stateField = (run: Run, fields: Record<string, unknown>): string =>
  JSON.stringify(Object.assign(fields, { attempt: run.attempt, at: new Date().toISOString() }));

const summarise = (run: Run, fields: Record<string, unknown>): Promise<boolean> =>
  run.deps.traces.update(run.data.event.id, { [`action:${run.id}`]: stateField(run, fields) });

/** records an attempt and the action's state in one write */
const record = (
  run: Run,
  outcome: AttemptOutcome,
  key: string | number,
  fields: Record<string, unknown>,
): Promise<boolean> =>
  run.deps.traces.update(run.data.event.id, {
    [`attempt:${run.id}:${key}`]: JSON.stringify(outcome),
    [`action:${run.id}`]: stateField(run, fields),
  });

const send = (run: Run, forward: RenderedForward, url: string | URL | undefined): Promise<AttemptOutcome> =>
  sendForward(forward, {
    url,
    idempotencyKey: run.id,
    userAgent: run.deps.userAgent,
    signingSecret: signingSecret(forward, run.deps.secrets),
  });

export function createActionExecutor(deps: ExecuteActionDeps): ActionExecutor {
  // labelled metric children made once (prom-client hashes the labels on every inc otherwise)
  const delivered = deps.metrics.actions.labels({ type: "forward", outcome: "delivered" });
  const byHost = new Map<string, { inc(): void }>();
  const deliveries = (host: string, outcome: string): { inc(): void } => {
    const key = `${outcome} ${host}`;
    let child = byHost.get(key);
    if (child === undefined) {
      if (byHost.size > 10_000) byHost.clear();
      byHost.set(key, (child = deps.metrics.deliveries.labels({ host, outcome })));
    }
    return child;
  };
  return async (job, prepared) => {
    const { data } = job;
    const deferrals = data.deferrals ?? 0;
    const run: Run = {
      deps,
      job,
      data,
      id: actionJobId(data.event.id, data.rule.id, data.actionIndex),
      attempt: job.attemptsMade + 1 - deferrals,
      attempts: (job.opts.attempts ?? 1) - deferrals,
      log: undefined,
    };
    const action = compiledAction(data, deps.registry);
    if (action.type !== "forward") {
      const note = `${action.type} actions are not carried out by this version`;
      await summarise(run, { state: "skipped", note });
      deps.metrics.actions.inc({ type: action.type, outcome: "skipped" });
      logOf(run).warn(note);
      return undefined;
    }
    const payload = prepared?.payload ?? payloadOf(data.event);
    const input = {
      context: prepared?.context ?? buildContext({ ...data.event, payload }, deps.context),
      payload,
      raw: { text: data.event.raw, contentType: data.event.contentType },
      secrets: deps.secrets,
      rule: { id: data.rule.id, description: data.rule.description },
      attempt: run.attempt,
    };
    let forward: RenderedForward;
    try {
      forward = action.render(input) as RenderedForward;
    } catch (error) {
      const reason = `the action's templates failed: ${(error as Error).message}`;
      await deadLetter(run, reason, "(not rendered)");
      return failForGood(run, reason);
    }
    const target = parseTarget(forward.url);
    const host = hostOf(target);
    const trusted = deps.breakers.trusts(host);
    const wait = trusted ? 0 : await deps.breakers.check(host);
    if (wait > 0) {
      await summarise(run, { state: "waiting", note: `circuit breaker open for ${host}`, retryInMs: wait });
      logOf(run).info({ host, waitMs: wait }, "circuit breaker open; delivery deferred");
      return defer(job, wait, run.attempt);
    }

    const outcome = await send(run, forward, target);
    deliveries(host, outcome.verdict).inc();
    deps.metrics.deliveryLatency.observe(outcome.latencyMs / 1000);
    const ok = outcome.verdict !== "retry";
    if (!(ok && deps.breakers.trusts(host)) && (await deps.breakers.record(host, ok)))
      logOf(run).warn({ host }, "circuit breaker opened");
    const detail = {
      status: outcome.status,
      error: outcome.error,
      latencyMs: outcome.latencyMs,
      request: outcome.request,
    };
    if (outcome.verdict !== "delivered") return notDelivered(run, forward, outcome, detail, host);
    delivered.inc();
    // a delivery is in the event's trace and the metrics; its line is for debugging (failures warn)
    if (deps.log.isLevelEnabled("debug"))
      deps.log.debug(Object.assign(logFields(run), detail), "forward delivered");
    return {
      eventId: data.event.id,
      trace: {
        [`attempt:${run.id}:${run.attempt}`]: JSON.stringify(outcome),
        [`action:${run.id}`]: stateField(run, { state: "delivered", ...detail }),
      },
    };
  };
}

/** A failed attempt: a retry (thrown for bull), else the fallback URL, else the dead letters. */
async function notDelivered(
  run: Run,
  forward: RenderedForward,
  outcome: AttemptOutcome,
  detail: Record<string, unknown>,
  host: string,
): Promise<undefined> {
  const { attempt, attempts, deps } = run;
  if (outcome.verdict === "retry" && attempt < attempts) {
    await record(run, outcome, attempt, { state: "retrying", ...detail });
    logOf(run).warn(detail, "forward failed; will retry");
    throw new RetryLater(
      outcome.error ?? `the destination answered ${outcome.status}`,
      attempt,
      outcome.retryAfterMs,
    );
  }

  const reason =
    outcome.verdict === "permanent"
      ? `the destination refused it (${outcome.status ?? outcome.error ?? "?"}); not retried`
      : `every attempt failed (${attempts}); last: ${outcome.status ?? outcome.error ?? "?"}`;
  await record(run, outcome, attempt, { state: "failed", ...detail });
  if (forward.fallback_url !== undefined) {
    const fallback = await send(run, forward, forward.fallback_url);
    await record(run, fallback, "fallback", {
      state: "fallback",
      status: fallback.status,
      error: fallback.error,
    });
    deps.metrics.deliveries.inc({
      host: hostOf(parseTarget(forward.fallback_url)),
      outcome: `fallback_${fallback.verdict}`,
    });
    if (fallback.verdict === "delivered") {
      await summarise(run, {
        state: "delivered",
        via: "fallback_url",
        status: fallback.status,
        request: fallback.request,
        reason,
      });
      deps.metrics.actions.inc({ type: "forward", outcome: "delivered_fallback" });
      logOf(run).warn({ reason, fallback: fallback.request }, "forward delivered to its fallback URL");
      return undefined;
    }
  }
  await deadLetter(run, reason, host);
  return failForGood(run, reason);
}

async function deadLetter(run: Run, why: string, where: string): Promise<void> {
  const { data, deps, id } = run;
  const trace = (await deps.traces.get(data.event.id)) ?? {};
  const attemptsSoFar = Object.entries(trace)
    .filter(([field]) => field.startsWith(`attempt:${id}:`))
    .map(([, value]) => JSON.parse(value) as AttemptOutcome)
    .sort((a, b) => a.at.localeCompare(b.at));
  await deps.deadLetters.add({
    id,
    eventId: data.event.id,
    rule: data.rule.id,
    host: where,
    failedAt: new Date().toISOString(),
    reason: why,
    attempts: attemptsSoFar,
    job: { ...data, deferrals: 0 },
    retries: data.redrives ?? 0,
  });
  await summarise(run, { state: "dead_letter", reason: why });
  deps.metrics.actions.inc({ type: "forward", outcome: "dead_letter" });
  logOf(run).error({ reason: why, host: where }, "forward dead-lettered");
}

function failForGood(run: Run, why: string): never {
  void run.job.discard();
  throw new Error(why);
}
