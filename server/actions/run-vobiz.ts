/**
 * Runs one vobiz action job (SPEC §4.2) at most once, through the ledger (vobiz-ledger.ts):
 *
 * 1. claim the ledger entry; an entry another run finished is not sent again, one it left `sending` has
 *    an unknown outcome (the worker died after sending, or while);
 * 2. render and check the params, then the loop breaker: the event's hop count (`sb_hop` on the URL
 *    Vobiz called) against `limits.max_hops`, and the per-(rule, number) cap; refusals are final;
 * 3. pace make_call by VOBIZ_CPS and ask the Vobiz host's circuit breaker (both defer the job, which
 *    costs no attempt);
 * 4. mark the entry `sending` (only one run can), send, and record the result.
 *
 * Only a request that provably did not reach Vobiz is retried (send-vobiz.ts); an unknown outcome is in
 * the trace (`unknown`), the metric switchboard_vobiz_unknown_total, a warn log line, and the dead letters
 * as needing a decision: retrying it there is the operator's explicit choice (a new ledger round).
 */
import { createHash, randomUUID } from "node:crypto";
import type { CallStore } from "../calls/call-store.ts";
import { parseDuration } from "../config/duration.ts";
import { actionField, attemptField } from "../events/trace-format.ts";
import type { TraceStore } from "../events/trace-store.ts";
import type { Logger } from "../logger.ts";
import type { Metrics } from "../metrics.ts";
import type { ActionLease } from "../queue/action-lease.ts";
import type { Alerts } from "../alerts/alerts.ts";
import type { VobizAction } from "../rules/rule-file-types.ts";
import type { Breakers } from "./circuit-breaker.ts";
import { finishVobizParams } from "./check-vobiz-params.ts";
import type { CompiledAction, RenderedVobiz } from "./compile-actions.ts";
import type { DeadLetters } from "./dead-letters.ts";
import type { RenderInput } from "./render-context.ts";
import type { VobizOutcome, VobizSender } from "./send-vobiz.ts";
import { VOBIZ_CATALOGUE } from "./vobiz-catalogue.ts";
import type { LedgerState, VobizLedger } from "./vobiz-ledger.ts";
import { buildVobizRequest, HOP_PARAM } from "./vobiz-request.ts";

export const DEFAULT_LIMITS = { max_hops: 3, per_number: { max: 3, window: "10m" } } as const;

export interface VobizRunnerDeps {
  ledger: VobizLedger;
  /** undefined when VOBIZ_AUTH_ID / VOBIZ_AUTH_TOKEN are not set */
  sender: VobizSender | undefined;
  authId: string | undefined;
  /** VOBIZ_API_URL's host: the circuit breaker it shares with forwards to that host */
  apiHost: string;
  publicUrl: string;
  /** VOBIZ_CPS: make_calls per second, fleet-wide */
  cps: number;
  calls: CallStore;
  breakers: Breakers;
  deadLetters: DeadLetters;
  traces: TraceStore;
  metrics: Metrics;
  log: Logger;
  /** operational alerts: an unknown outcome needs a person's decision (kind vobiz_unknown) */
  alerts: Pick<Alerts, "notify">;
  /** tests only (SWITCHBOARD_TEST_VOBIZ_PAUSE): stop for good at this point, so a test can kill -9 there */
  pauseAt?: "claimed" | "sent";
}

/** What the composition root gives; the worker adds the stores it shares with forwards. */
export type VobizSettings = Omit<
  VobizRunnerDeps,
  "calls" | "breakers" | "deadLetters" | "traces" | "metrics" | "log" | "alerts"
>;

interface VobizRun {
  deps: VobizRunnerDeps;
  lease: ActionLease;
  name: VobizAction["vobiz"];
  key: string;
  owner: string;
  log: Logger;
}

/** How many Vobiz actions led to this event: the `sb_hop` on the URL Vobiz called (0 when absent). */
export function eventHop(query: Readonly<Record<string, string | string[]>>): number {
  const raw = query[HOP_PARAM];
  const value = Number(Array.isArray(raw) ? raw[raw.length - 1] : raw);
  return Number.isInteger(value) && value > 0 ? value : 0;
}

const stateOf = (run: VobizRun, fields: Record<string, unknown>): string =>
  JSON.stringify({ vobiz: run.name, ...fields, attempt: run.lease.attempt, at: Date.now() });

const field = (run: VobizRun): string => actionField(run.lease.data.rule.id, run.lease.data.actionIndex);

const write = (run: VobizRun, fields: Record<string, unknown>, attempt?: VobizOutcome): Promise<boolean> => {
  const { data } = run.lease;
  const attemptKey = data.redrives ? `${data.redrives}.${run.lease.attempt}` : run.lease.attempt;
  return run.deps.traces.update(data.event.id, {
    [field(run)]: stateOf(run, fields),
    ...(attempt === undefined
      ? {}
      : { [attemptField(data.rule.id, data.actionIndex, attemptKey)]: JSON.stringify(attempt) }),
  });
};

async function deadLetter(
  run: VobizRun,
  reason: string,
  attempts: VobizOutcome[],
  decision?: string,
): Promise<void> {
  const { data } = run.lease;
  await run.deps.deadLetters.add({
    id: `${data.event.id}:${data.rule.id}:${data.actionIndex}`,
    eventId: data.event.id,
    rule: data.rule.id,
    host: run.deps.apiHost,
    failedAt: new Date().toISOString(),
    reason,
    attempts,
    job: { ...data, deferrals: 0 },
    retries: data.redrives ?? 0,
    ...(decision === undefined ? {} : { needs_decision: decision }),
  });
}

/** Not sent, and never will be on its own: the dead letters, where an operator may retry it. */
async function fail(run: VobizRun, reason: string, attempts: VobizOutcome[] = []): Promise<void> {
  await deadLetter(run, reason, attempts);
  await write(run, { state: "dead_letter", reason });
  run.deps.metrics.actions.inc({ type: "vobiz", outcome: "dead_letter" });
  run.log.error({ reason }, "vobiz action dead-lettered");
  run.lease.discard(reason);
}

const UNKNOWN_DECISION =
  "the request may have reached Vobiz and taken effect: check the call (or Vobiz's logs) before retrying; a retry sends it again";

async function unknown(run: VobizRun, reason: string, attempts: VobizOutcome[] = []): Promise<void> {
  await deadLetter(run, reason, attempts, UNKNOWN_DECISION);
  await write(run, { state: "unknown", reason, decision: UNKNOWN_DECISION });
  run.deps.metrics.vobizUnknown.inc({ action: run.name });
  run.deps.alerts.notify({
    kind: "vobiz_unknown",
    eventId: run.lease.data.event.id,
    rule: run.lease.data.rule.id,
    action: run.name,
    reason,
  });
  run.deps.metrics.actions.inc({ type: "vobiz", outcome: "unknown" });
  run.log.warn({ reason, ledger: run.key }, "vobiz action outcome unknown: not retried, needs a decision");
  run.lease.discard(reason);
}

async function refuse(run: VobizRun, reason: "max_hops" | "per_number", message: string): Promise<void> {
  await run.deps.ledger.finish(run.key, run.owner, ["pending"], { state: "refused", reason: message });
  await write(run, { state: "refused", reason: message });
  run.deps.metrics.vobizRefusals.inc({ action: run.name, reason });
  run.deps.metrics.actions.inc({ type: "vobiz", outcome: "refused" });
  run.log.warn({ reason: message }, "vobiz action refused by the loop breaker");
  run.lease.complete({});
}

/** a test hook: says where it stopped, then never returns (the test kills the process) */
async function pause(run: VobizRun, at: "claimed" | "sent"): Promise<void> {
  if (run.deps.pauseAt !== at) return;
  run.log.warn({ testPause: at, ledger: run.key }, `vobiz test pause: ${at}`);
  await new Promise(() => undefined);
}

/** An entry an earlier run left: never sent again from here. */
async function alreadyRun(run: VobizRun, state: LedgerState | "claimed"): Promise<void> {
  const { deps, key } = run;
  if (state === "sending") {
    await deps.ledger.markUnknown(key, { unknownAt: Date.now() });
    return unknown(
      run,
      "an earlier run stopped after marking the request as being sent (the worker died or lost Redis): it may or may not have reached Vobiz",
    );
  }
  const entry = await deps.ledger.get(key);
  const reason = typeof entry?.reason === "string" ? entry.reason : undefined;
  if (state === "unknown") return unknown(run, reason ?? "the outcome of an earlier run is unknown");
  if (state === "failed") return fail(run, reason ?? "an earlier run failed");
  const { owner: _owner, round: _round, state: _state, ...result } = entry ?? { state };
  const note = "recorded by an earlier run; not sent again";
  const fields = { state: state === "done" ? "delivered" : state, ...result, note };
  run.log.info({ ledger: key, state }, "vobiz action already run; not sent again");
  run.lease.complete({ [field(run)]: stateOf(run, fields) });
}

export async function runVobiz(
  deps: VobizRunnerDeps,
  lease: ActionLease,
  action: CompiledAction,
  input: () => RenderInput,
): Promise<void> {
  const { data } = lease;
  const spec = action.spec as VobizAction;
  const catalogue = VOBIZ_CATALOGUE[spec.vobiz];
  const key = deps.ledger.key(data.event.id, data.rule.id, data.actionIndex);
  const run: VobizRun = {
    deps,
    lease,
    name: spec.vobiz,
    key,
    owner: `${lease.id}#${lease.attempt}#${randomUUID()}`,
    log: deps.log.child({
      eventId: data.event.id,
      rule: data.rule.id,
      jobId: lease.id,
      vobiz: spec.vobiz,
      attempt: `${lease.attempt} of ${lease.attempts}`,
    }),
  };
  const { sender, authId } = deps;
  if (sender === undefined || authId === undefined)
    return fail(
      run,
      "VOBIZ_AUTH_ID and VOBIZ_AUTH_TOKEN are not set: nothing was sent; set them, then retry",
    );

  const claimed = await deps.ledger.claim(key, run.owner, data.redrives ?? 0);
  if (claimed !== "claimed" && claimed !== "taken_over") return alreadyRun(run, claimed);
  const takenOver =
    claimed === "taken_over"
      ? {
          takenOver:
            "an earlier run claimed it and stopped before sending (nothing reached Vobiz); this run sent it",
        }
      : {};

  let params: Record<string, unknown>;
  try {
    params = finishVobizParams(spec.vobiz, (action.render(input()) as RenderedVobiz).params);
    if (catalogue.call && typeof params.call_uuid !== "string")
      throw new Error(`${spec.vobiz} needs a call: the event has no CallUUID; give params.call_uuid`);
  } catch (error) {
    const reason = `nothing was sent: ${(error as Error).message}`;
    await deps.ledger.finish(key, run.owner, ["pending"], { state: "failed", reason });
    return fail(run, reason);
  }

  // the loop breaker
  const hop = eventHop(data.event.query);
  const maxHops = spec.limits?.max_hops ?? DEFAULT_LIMITS.max_hops;
  if (hop >= maxHops)
    return refuse(
      run,
      "max_hops",
      `this event is ${hop} Vobiz actions away from a call Switchboard did not cause (${HOP_PARAM}=${hop}); the rule allows ${maxHops}`,
    );
  if (catalogue.destination) {
    const max = spec.limits?.per_number?.max ?? DEFAULT_LIMITS.per_number.max;
    const window = spec.limits?.per_number?.window ?? DEFAULT_LIMITS.per_number.window;
    const number = String(params.to).replace(/[^0-9A-Za-z@.]/g, "");
    const cap = await deps.ledger.withinCap(data.rule.id, number, key, parseDuration(window) ?? 600_000, max);
    if (!cap.allowed)
      return refuse(
        run,
        "per_number",
        `rule "${data.rule.id}" already acted on ${String(params.to)} ${cap.count} times within ${window} (limit ${max})`,
      );
  }

  // pacing and the breaker: wait without spending an attempt (the entry stays ours, pending)
  // a token is not reserved: waiters come back spread over a token's time, and take one then (or wait again)
  const tokenWait = spec.vobiz === "make_call" ? await deps.ledger.takeToken(deps.cps) : 0;
  const cpsWait = tokenWait === 0 ? 0 : tokenWait + Math.floor((Math.random() * 1000) / deps.cps);
  const breakerWait =
    cpsWait > 0 || deps.breakers.trusts(deps.apiHost) ? 0 : await deps.breakers.check(deps.apiHost);
  const wait = Math.max(cpsWait, breakerWait);
  if (wait > 0) {
    const note =
      cpsWait > 0 ? `VOBIZ_CPS (${deps.cps}/s) reached` : `circuit breaker open for ${deps.apiHost}`;
    await deps.ledger.release(key, run.owner);
    await write(run, { state: "waiting", note, retryInMs: wait });
    await lease.defer(wait);
    return;
  }

  const callId = `call_${createHash("sha256").update(key).digest("base64url").slice(0, 22)}`;
  const request = buildVobizRequest(spec.vobiz, params, {
    authId,
    publicUrl: deps.publicUrl,
    hop: hop + 1,
    callId,
  });
  const callRecord = request.call && {
    ...request.call,
    request_uuid: "",
    from: String(params.from),
    to: String(params.to),
    createdAt: new Date().toISOString(),
  };
  // stored before the call exists, so its first callbacks find their settings
  if (callRecord !== undefined) await deps.calls.put(callRecord);

  await pause(run, "claimed");
  if (!(await deps.ledger.sending(key, run.owner))) {
    run.log.info({ ledger: key }, "vobiz action taken over by another run; this one stops");
    lease.complete({});
    return;
  }
  const outcome = await sender.send(request, spec.vobiz === "hangup");
  await pause(run, "sent");
  deps.metrics.vobizRequests.inc({ action: spec.vobiz, outcome: outcome.verdict });
  const healthy = outcome.verdict === "done" || outcome.verdict === "refused" || outcome.status === 429;
  if (!(healthy && deps.breakers.trusts(deps.apiHost)) && (await deps.breakers.record(deps.apiHost, healthy)))
    run.log.warn({ host: deps.apiHost }, "circuit breaker opened");
  const result = {
    ...takenOver,
    request: outcome.request,
    status: outcome.status,
    api_id: outcome.api_id,
    request_uuid: outcome.request_uuid,
    latencyMs: outcome.latencyMs,
    error: outcome.error,
    note: outcome.note,
  };

  switch (outcome.verdict) {
    case "done": {
      await deps.ledger.finish(key, run.owner, ["sending", "unknown"], { state: "done", ...result });
      if (callRecord !== undefined && outcome.request_uuid !== undefined)
        await deps.calls.put({ ...callRecord, request_uuid: outcome.request_uuid });
      deps.metrics.actions.inc({ type: "vobiz", outcome: "delivered" });
      if (outcome.note !== undefined) run.log.info(result, "vobiz action done");
      lease.complete({ [field(run)]: stateOf(run, { state: "delivered", ...result }) });
      return;
    }
    case "not_sent": {
      const reason = outcome.error ?? `Vobiz answered ${outcome.status} (it did not act on the request)`;
      if (lease.attempt < lease.attempts) {
        await deps.ledger.finish(key, run.owner, ["sending"], {
          state: "pending",
          owner: "",
          lastError: reason,
        });
        await write(run, { state: "retrying", ...result }, outcome);
        run.log.warn(result, "vobiz request not sent; will retry");
        lease.retry(reason, outcome.retryAfterMs);
        return;
      }
      const why = `every attempt failed without reaching Vobiz (${lease.attempts}); last: ${reason}`;
      await deps.ledger.finish(key, run.owner, ["sending"], { state: "failed", reason: why });
      await write(run, { state: "failed", ...result }, outcome);
      return fail(run, why, [outcome]);
    }
    case "refused": {
      const why = `Vobiz refused it (${outcome.status}${outcome.error ? `: ${outcome.error}` : outcome.message ? `: ${outcome.message}` : ""}); not retried`;
      await deps.ledger.finish(key, run.owner, ["sending"], { state: "failed", reason: why, ...result });
      return fail(run, why, [outcome]);
    }
    case "unknown": {
      const why = `the outcome is unknown: ${outcome.error ?? "no answer"}`;
      await deps.ledger.finish(key, run.owner, ["sending"], { state: "unknown", reason: why, ...result });
      return unknown(run, why, [outcome]);
    }
  }
}
