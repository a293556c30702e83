/**
 * Plays one call against a running instance as Vobiz would: the answer request, then whatever the XML
 * says — a <Gather>'s action with the next digits or speech, a <Redirect>, a <Dial>'s action with the
 * dial status, a <Record>'s action and its recording callback — and finally the hangup. Every request is
 * signed and carries the call's CallUUID, numbers and times. Stops with a reason on a refused request, a
 * fallback reply, XML it cannot follow, a URL outside this Switchboard, or a loop.
 */
import { heard, readVobizXml, type Verb } from "./read-vobiz-xml.ts";
import { callFields, newCall, samplePayload, type Fields, type SimulatedCall } from "./vobiz-payloads.ts";
import { explainRefusal, sendVobizRequest, type Target } from "./vobiz-request.ts";

export interface SimulateOptions {
  answerPath: string;
  from?: string;
  to?: string;
  digits: string[];
  speech: string[];
  dialStatus: string;
  duration: number;
  hangupPath: string;
  answerOnly: boolean;
  hangup: boolean;
}

export interface Step {
  request: { method: string; path: string; fields: Fields; why: string };
  status: number;
  /** X-Switchboard-Reply: rule <id>, default, empty, fallback; <reason> */
  reply: string;
  xml: string;
  hears: string[];
  /** what happens next, in words */
  next?: string;
}

export interface Transcript {
  call: { CallUUID: string; From: string; To: string };
  steps: Step[];
  ended: { ok: boolean; how: string };
}

const MAX_REQUESTS = 25;
const LOOP_LIMIT = 3;

interface Pending {
  method: string;
  url: string;
  fields: Fields;
  why: string;
}

class Stop extends Error {}

export async function simulateCall(
  target: Target,
  options: SimulateOptions,
  onStep?: (step: Step) => void,
): Promise<Transcript> {
  const call: SimulatedCall = newCall({ from: options.from, to: options.to });
  const steps: Step[] = [];
  const digits = [...options.digits];
  const speech = [...options.speech];
  const visits = new Map<string, number>();
  let requests = 0;
  let printed = 0;
  /** hands every step not yet reported to onStep, in request order */
  const flush = (): void => {
    for (; printed < steps.length; printed += 1) onStep?.(steps[printed] as Step);
  };

  const pathOf = (url: string): string => {
    if (url.startsWith("/")) return url;
    if (url.startsWith(`${target.publicUrl}/`)) return url.slice(target.publicUrl.length);
    throw new Stop(
      `the reply sends the call to ${url}, which is not under PUBLIC_URL (${target.publicUrl}); Switchboard would not see it`,
    );
  };

  const request = async (pending: Pending): Promise<Step> => {
    requests += 1;
    if (requests > MAX_REQUESTS) throw new Stop(`more than ${MAX_REQUESTS} requests: the flow does not end`);
    const path = pathOf(pending.url);
    const key = `${path}|${pending.fields.Digits ?? ""}|${pending.fields.Speech ?? ""}|${pending.fields.Event ?? ""}`;
    const seen = (visits.get(key) ?? 0) + 1;
    visits.set(key, seen);
    if (seen >= LOOP_LIMIT) throw new Stop(`loop: ${path} was requested ${seen} times with the same input`);
    const method = pending.method === "GET" ? "GET" : "POST";
    const response = await sendVobizRequest(target, path, pending.fields, method);
    const step: Step = {
      request: { method, path, fields: pending.fields, why: pending.why },
      status: response.status,
      reply: response.headers.get("x-switchboard-reply") ?? "",
      xml: response.body,
      hears: [],
    };
    steps.push(step);
    if (response.status !== 200) {
      const why = explainRefusal(response.status, response.body, target);
      throw new Stop(`${path} answered ${response.status}${why ? `: ${why}` : ""}`);
    }
    return step;
  };

  /** Follows the verbs of one reply; returns the next request, or undefined when the call ends here. */
  const follow = async (step: Step, verbs: Verb[]): Promise<{ next?: Pending; ended?: string }> => {
    for (const verb of verbs) {
      const words = heard(verb);
      if (words !== undefined) step.hears.push(words);
      switch (verb.kind) {
        case "gather": {
          for (const prompt of verb.prompts) {
            const said = heard(prompt);
            if (said !== undefined) step.hears.push(said);
          }
          if (verb.action === undefined) continue;
          const input: Fields =
            digits.length > 0
              ? { InputType: "dtmf", Digits: digits.shift() ?? "", Speech: "" }
              : speech.length > 0 && verb.inputType.includes("speech")
                ? {
                    InputType: "speech",
                    Digits: "",
                    Speech: speech.shift() ?? "",
                    SpeechConfidenceScore: "0.92",
                  }
                : { InputType: verb.inputType.split(" ")[0] ?? "dtmf", Digits: "", Speech: "" };
          const said = input.Digits
            ? `presses ${input.Digits}`
            : input.Speech
              ? `says "${input.Speech}"`
              : "gives no input";
          return {
            next: {
              method: verb.method,
              url: verb.action,
              fields: { ...callFields(call), ...input },
              why: `the caller ${said}`,
            },
          };
        }
        case "redirect":
          return {
            next: {
              method: verb.method,
              url: verb.url,
              fields: { ...callFields(call), Event: "Redirect" },
              why: "<Redirect>",
            },
          };
        case "dial": {
          step.hears.push(
            `[rings ${verb.targets.join(", ")}${verb.callerId ? ` showing ${verb.callerId}` : ""}]`,
          );
          if (verb.action === undefined) continue;
          const fields = { ...samplePayload("DialAction", call), DialStatus: options.dialStatus };
          return {
            next: {
              method: verb.method,
              url: verb.action,
              fields,
              why: `the dial ended: ${options.dialStatus}`,
            },
          };
        }
        case "record": {
          step.hears.push("[beep; the caller records a message]");
          const recording = samplePayload("RecordStop", call);
          if (verb.action !== undefined) {
            const started = await request({
              method: verb.method,
              url: verb.action,
              fields: { ...callFields(call), RecordingID: recording.RecordingID ?? "" },
              why: "<Record> action (recording started)",
            });
            const read = readVobizXml(started.xml);
            if ("error" in read)
              throw new Stop(`the <Record> action's reply cannot be followed: ${read.error}`);
            // a reply with verbs replaces the rest of the call's XML; an empty one lets it go on
            if (read.verbs.length > 0) return follow(started, read.verbs);
          }
          if (verb.callbackUrl !== undefined) {
            await request({
              method: verb.callbackMethod,
              url: verb.callbackUrl,
              fields: recording,
              why: "<Record> callbackUrl (RecordStop)",
            });
          }
          continue;
        }
        case "conference":
          step.hears.push(`[joins conference "${verb.name}" until the caller hangs up]`);
          return { ended: `in conference "${verb.name}"` };
        case "hangup":
          return { ended: "the reply hung up" };
        case "other":
          step.hears.push(`[<${verb.name}>]`);
          continue;
        default:
          continue; // heard above, or nothing to do
      }
    }
    return { ended: "the reply ran out of verbs (Vobiz hangs up)" };
  };

  const transcript = (ok: boolean, how: string): Transcript => ({
    call: { CallUUID: call.callUuid, From: call.from, To: call.to },
    steps,
    ended: { ok, how },
  });

  let pending: Pending | undefined = {
    method: "POST",
    url: options.answerPath,
    fields: samplePayload("StartApp", call),
    why: "the call is answered",
  };
  let how = "";
  try {
    while (pending !== undefined) {
      const step = await request(pending);
      const read = readVobizXml(step.xml);
      if ("error" in read) {
        throw new Stop(`the reply cannot be followed: ${read.error}`);
      }
      if (step.reply.startsWith("fallback")) {
        read.verbs.forEach((verb) => heard(verb) && step.hears.push(heard(verb) ?? ""));
        throw new Stop(
          `Switchboard sent its fallback reply (${step.reply}); the server log and the event's trace say why`,
        );
      }
      const outcome = options.answerOnly ? { ended: "--answer-only" } : await follow(step, read.verbs);
      step.next = outcome.next
        ? `${outcome.next.why} → ${outcome.next.method} ${pathOf(outcome.next.url)}`
        : outcome.ended;
      flush();
      pending = outcome.next;
      how = outcome.ended ?? how;
    }
  } catch (error) {
    if (!(error instanceof Stop)) throw error;
    flush();
    return transcript(false, error.message);
  }
  if (options.hangup && !options.answerOnly) {
    try {
      const hangup = await request({
        method: "POST",
        url: options.hangupPath,
        fields: samplePayload("Hangup", call, { duration: options.duration }),
        why: `the call ends after ${options.duration} s`,
      });
      hangup.next = "the call is over";
      flush();
    } catch (error) {
      if (!(error instanceof Stop)) throw error;
      flush();
      return transcript(false, error.message);
    }
  }
  return transcript(true, how);
}
