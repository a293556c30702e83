/**
 * Runs one action job (SPEC §4.2) on its lease: renders the action of a matched rule at send time
 * (secrets resolved only here) and carries it out. A forward is one HTTP attempt per run; a failed one is
 * retried after the action's backoff. Before each attempt the destination host's circuit breaker is
 * asked: while it is open the run is deferred, which costs no attempt. After the last attempt (or a
 * permanent failure) the fallback URL is tried once; if that fails too, the delivery goes to the dead
 * letters with its whole history. Every attempt (time, request line, status, latency, error; never
 * headers or bodies) is in the trace (events/trace-format.ts).
 */
import { buildContext, type ContextOptions, type EventContext } from "../events/build-context.ts";
import { contentTypeOf, payloadOf, type Payload } from "../events/parse-payload.ts";
import { actionAttempts, actionField, attemptField } from "../events/trace-format.ts";
import type { TraceStore } from "../events/trace-store.ts";
import type { Logger } from "../logger.ts";
import type { Metrics } from "../metrics.ts";
import type { ActionLease, DeliveryHandler } from "../queue/action-lease.ts";
import { actionJobId, type ActionJobData } from "../queue/job-types.ts";
import type { LoadedRuleset } from "../rules/load-ruleset.ts";
import type { RuleRegistry } from "../rules/rule-registry.ts";
import type { Breakers } from "./circuit-breaker.ts";
import { compileActions, type CompiledAction, type RenderedForward } from "./compile-actions.ts";
import type { DeadLetters } from "./dead-letters.ts";
import type { RenderInput } from "./render-context.ts";
import { runVobiz, type VobizRunnerDeps } from "./run-vobiz.ts";
import { parseTarget, sendForward, type AttemptOutcome } from "./send-forward.ts";

export interface ActionRunnerDeps {
  registry: RuleRegistry<LoadedRuleset>;
  traces: TraceStore;
  breakers: Breakers;
  deadLetters: DeadLetters;
  context: ContextOptions;
  secrets: Readonly<Record<string, string>>;
  userAgent: string;
  metrics: Metrics;
  log: Logger;
  /** vobiz actions: the ledger, the sender and the loop breaker's limits (run-vobiz.ts) */
  vobiz: VobizRunnerDeps;
}

/** The compiled action: from the loaded ruleset when the job was decided under it, else compiled from the job. */
function compiledAction(data: ActionJobData, registry: ActionRunnerDeps["registry"]): CompiledAction {
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

/** What the request path already knows of an event it decided (ROLE=all): spares parsing it again. */
export interface PreparedEvent {
  payload: Payload;
  context: EventContext;
}

/** One run of an action job: what its steps share (plain data; the hot path makes no closures). */
interface Run {
  deps: ActionRunnerDeps;
  lease: ActionLease;
  data: ActionJobData;
  /** event, rule and action index: the Idempotency-Key (the same for a redriven job) */
  id: string;
  attempt: number;
  attempts: number;
  /** the key of this attempt's field: its number, `<redrive>.<number>` for a redriven job */
  attemptKey: string;
  redriven: boolean;
  /** made only when a line is logged through it: a child logger per delivery cost as much as the line */
  log: Logger | undefined;
}

function logFields(run: Run): Record<string, unknown> {
  return {
    eventId: run.data.event.id,
    rule: run.data.rule.id,
    jobId: run.lease.id,
    attempt: `${run.attempt} of ${run.attempts}`,
  };
}

const logOf = (run: Run): Logger => (run.log ??= run.deps.log.child(logFields(run)));

/** the action's state field in the trace */
const stateField = (run: Run, fields: Record<string, unknown>): string =>
  JSON.stringify(
    Object.assign(
      fields,
      // attempt 1 is left out (actionState reads it back): most deliveries succeed at once
      run.attempt === 1 ? { at: Date.now() } : { attempt: run.attempt, at: Date.now() },
      run.redriven ? { key: run.attemptKey } : {},
    ),
  );

const stateKey = (run: Run): string => actionField(run.data.rule.id, run.data.actionIndex);

const summarise = (run: Run, fields: Record<string, unknown>): Promise<boolean> =>
  run.deps.traces.update(run.data.event.id, { [stateKey(run)]: stateField(run, fields) });

/** records an attempt and the action's state in one write */
const record = (
  run: Run,
  outcome: AttemptOutcome,
  key: string | number,
  fields: Record<string, unknown>,
): Promise<boolean> =>
  run.deps.traces.update(run.data.event.id, {
    [attemptField(run.data.rule.id, run.data.actionIndex, key)]: JSON.stringify(outcome),
    [stateKey(run)]: stateField(run, fields),
  });

const send = (run: Run, forward: RenderedForward, url: string | URL | undefined): Promise<AttemptOutcome> =>
  sendForward(forward, {
    url,
    idempotencyKey: run.id,
    userAgent: run.deps.userAgent,
    signingSecret: signingSecret(forward, run.deps.secrets),
  });

export function createActionRunner(deps: ActionRunnerDeps): DeliveryHandler {
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
  return async (lease, preparedEvent) => {
    const { data } = lease;
    const prepared = preparedEvent as PreparedEvent | undefined;
    const run: Run = {
      deps,
      lease,
      data,
      id: actionJobId(data.event.id, data.rule.id, data.actionIndex),
      attempt: lease.attempt,
      attempts: lease.attempts,
      attemptKey: data.redrives ? `${data.redrives}.${lease.attempt}` : String(lease.attempt),
      redriven: (data.redrives ?? 0) > 0,
      log: undefined,
    };
    const action = compiledAction(data, deps.registry);
    const renderInput = (): RenderInput => {
      const payload = prepared?.payload ?? payloadOf(data.event);
      return {
        context: prepared?.context ?? buildContext({ ...data.event, payload }, deps.context),
        payload,
        raw: { text: data.event.raw, contentType: contentTypeOf(data.event) },
        secrets: deps.secrets,
        rule: { id: data.rule.id, description: data.rule.description },
        attempt: run.attempt,
      };
    };
    if (action.type === "vobiz") return runVobiz(deps.vobiz, lease, action, renderInput);
    if (action.type !== "forward") {
      const note = `${action.type} actions are not carried out by this version`;
      await summarise(run, { state: "skipped", note });
      deps.metrics.actions.inc({ type: action.type, outcome: "skipped" });
      logOf(run).warn(note);
      return;
    }
    const input = renderInput();
    let forward: RenderedForward;
    try {
      forward = action.render(input) as RenderedForward;
    } catch (error) {
      const reason = `the action's templates failed: ${(error as Error).message}`;
      await deadLetter(run, reason, "(not rendered)");
      lease.discard(reason);
      return;
    }
    const target = parseTarget(forward.url);
    const host = hostOf(target);
    const trusted = deps.breakers.trusts(host);
    const wait = trusted ? 0 : await deps.breakers.check(host);
    if (wait > 0) {
      await summarise(run, { state: "waiting", note: `circuit breaker open for ${host}`, retryInMs: wait });
      logOf(run).info({ host, waitMs: wait }, "circuit breaker open; delivery deferred");
      await lease.defer(wait);
      return;
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
    // the attempt is in the state field: a delivery that succeeds at once writes one field
    lease.complete({ [stateKey(run)]: stateField(run, { state: "delivered", ...detail }) });
  };
}

/** A failed attempt: a retry, else the fallback URL, else the dead letters. */
async function notDelivered(
  run: Run,
  forward: RenderedForward,
  outcome: AttemptOutcome,
  detail: Record<string, unknown>,
  host: string,
): Promise<void> {
  const { attempt, attempts, deps } = run;
  if (outcome.verdict === "retry" && attempt < attempts) {
    await record(run, outcome, run.attemptKey, { state: "retrying", ...detail });
    logOf(run).warn(detail, "forward failed; will retry");
    run.lease.retry(outcome.error ?? `the destination answered ${outcome.status}`, outcome.retryAfterMs);
    return;
  }

  const reason =
    outcome.verdict === "permanent"
      ? `the destination refused it (${outcome.status ?? outcome.error ?? "?"}); not retried`
      : `every attempt failed (${attempts}); last: ${outcome.status ?? outcome.error ?? "?"}`;
  await record(run, outcome, run.attemptKey, { state: "failed", ...detail });
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
      run.lease.complete({});
      return;
    }
  }
  await deadLetter(run, reason, host);
  run.lease.discard(reason);
}

async function deadLetter(run: Run, why: string, where: string): Promise<void> {
  const { data, deps, id } = run;
  const trace = (await deps.traces.get(data.event.id)) ?? {};
  const attemptsSoFar = actionAttempts(trace, data.rule.id, data.actionIndex) as unknown as AttemptOutcome[];
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
