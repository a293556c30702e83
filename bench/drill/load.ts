/** Steady signed load, with the retries Vobiz makes when it gets no 200. */
import { signRequest, signatureBaseUrl } from "../../server/signatures/vobiz-signature.ts";
import { PUBLIC_URL, RATE, TOKEN, sleep, until } from "./common.ts";

export interface Outcome {
  /** its number: the first request goes to target number % targets, each retry to the next one */
  number: number;
  kind: "event" | "answer";
  requests: number;
  /** got a 200 (for /answer: with the rule's XML) */
  acknowledged: boolean;
  statuses: string[];
}

export interface Load {
  outcomes: Map<string, Outcome>;
  acknowledged(): number;
  /** stops sending new events and waits for the retries of those sent */
  stop(): Promise<void>;
}

/**
 * Senders that aim at `RATE` events/s over `targets()` (round-robin; a retry goes to the next one). A
 * request that got no 200 within 5 s, or a 503, is sent again byte-identical (freshly signed) after 1, 2
 * and 4 s, as Vobiz does; the lane goes on sending new events meanwhile.
 */
export function startLoad(scenario: string, targets: () => string[], answerShare = 0.25): Load {
  const outcomes = new Map<string, Outcome>();
  const retries = new Set<Promise<void>>();
  let stopping = false;
  let sequence = 0;
  const lanes = 8;
  const send = async (call: string, outcome: Outcome, body: string, attempt: number): Promise<void> => {
    const list = targets();
    const target = list[(outcome.number + attempt) % list.length]!;
    const pathname = outcome.kind === "answer" ? "/answer/main" : "/events";
    outcome.requests += 1;
    let status: string;
    try {
      const response = await fetch(`${target}${pathname}`, {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          ...signRequest(signatureBaseUrl(PUBLIC_URL, pathname), TOKEN),
        },
        body,
        signal: AbortSignal.timeout(5000),
      });
      const text = await response.text();
      status = String(response.status);
      if (response.status === 200 && (outcome.kind === "event" || text.includes("<Speak>Drill</Speak>"))) {
        outcome.acknowledged = true;
      } else if (response.status === 200) {
        status = "200 without the rule's XML";
      }
    } catch {
      status = "no answer";
    }
    outcome.statuses.push(status);
    if (outcome.acknowledged || attempt >= 3) return;
    const retry = (async () => {
      await sleep(1000 * 2 ** attempt);
      await send(call, outcome, body, attempt + 1);
    })();
    retries.add(retry);
    void retry.finally(() => retries.delete(retry));
  };
  const lane = async (): Promise<void> => {
    const gap = (1000 * lanes) / RATE;
    while (!stopping) {
      const started = Date.now();
      sequence += 1;
      const call = `drill-${scenario}-${sequence}`;
      const kind = Math.random() < answerShare ? "answer" : "event";
      const outcome: Outcome = { number: sequence, kind, requests: 0, acknowledged: false, statuses: [] };
      outcomes.set(call, outcome);
      const fields: Record<string, string> =
        kind === "answer"
          ? {
              Event: "StartApp",
              CallUUID: call,
              From: "919876543210",
              To: "918000000000",
              CallStatus: "in-progress",
            }
          : {
              Event: "Hangup",
              CallUUID: call,
              From: "919876543210",
              To: "918000000000",
              CallStatus: "completed",
              Duration: "42",
              HangupCause: "NORMAL_CLEARING",
            };
      await send(call, outcome, new URLSearchParams(fields).toString(), 0);
      await sleep(Math.max(0, gap - (Date.now() - started)));
    }
  };
  const running = Array.from({ length: lanes }, () => lane());
  return {
    outcomes,
    acknowledged: () => [...outcomes.values()].filter((outcome) => outcome.acknowledged).length,
    async stop() {
      stopping = true;
      await Promise.all(running);
      while (retries.size > 0) await Promise.all([...retries]);
    },
  };
}

export async function acknowledgedAtLeast(load: Load, count: number, timeoutMs = 120_000): Promise<void> {
  await until(
    `${count} acknowledged events`,
    () => Promise.resolve(load.acknowledged() >= count ? true : undefined),
    timeoutMs,
  );
}
