/**
 * Realistic Vobiz request bodies (reference §3: field names and values as Vobiz sends them, all strings),
 * for `send --event <type>` and `simulate`. One call's requests share its CallUUID, numbers and times.
 * Pure: the call and the clock are given.
 */
import { randomUUID } from "node:crypto";

export interface SimulatedCall {
  callUuid: string;
  from: string;
  to: string;
  /** when the call started */
  startedAt: Date;
  parentAuthId: string;
}

export type Fields = Record<string, string>;

export function newCall(
  options: { from?: string; to?: string; now?: Date; parentAuthId?: string } = {},
): SimulatedCall {
  return {
    callUuid: randomUUID(),
    from: options.from ?? "919876543210",
    to: options.to ?? "918040001234",
    startedAt: options.now ?? new Date(),
    parentAuthId: options.parentAuthId ?? "MA_SIMULATE",
  };
}

/** `2026-06-08 06:07:34.130248` (UTC), as SessionStart is written */
const sessionTime = (at: Date): string => `${at.toISOString().replace("T", " ").replace("Z", "")}000`;
/** `2026-06-08 11:37:34` in India time, as StartTime/EndTime are written */
const localTime = (at: Date): string =>
  new Date(at.getTime() + 5.5 * 3600_000).toISOString().replace("T", " ").slice(0, 19);

/** Fields every voice request of the call carries. */
export function callFields(call: SimulatedCall, status = "in-progress"): Fields {
  return {
    CallUUID: call.callUuid,
    From: call.from,
    To: call.to,
    Direction: "inbound",
    CallStatus: status,
    CallerName: `+${call.from}`,
    ParentAuthID: call.parentAuthId,
    SessionStart: sessionTime(call.startedAt),
    STIRAttestation: "Not Applicable",
    STIRVerification: "Not Applicable",
  };
}

const rounded = (seconds: number): string => String(Math.max(60, Math.ceil(seconds / 60) * 60));

/** The request body of an event of `type`, as Vobiz would send it for this call. */
export function samplePayload(
  type: string,
  call: SimulatedCall,
  options: { duration?: number; now?: Date } = {},
): Fields {
  const now = options.now ?? new Date();
  const duration = options.duration ?? 95;
  const base = callFields(call);
  switch (type.toLowerCase()) {
    case "startapp":
      return {
        ...callFields(call, "ringing"),
        Event: "StartApp",
        BillRate: "0",
        CountryCode: "",
        RouteType: "",
      };
    case "hangup":
      return {
        ...callFields(call, "completed"),
        Event: "Hangup",
        Duration: String(duration),
        BillDuration: duration > 0 ? rounded(duration) : "0",
        BillRate: "0",
        StartTime: localTime(call.startedAt),
        AnswerTime: localTime(call.startedAt),
        EndTime: localTime(new Date(call.startedAt.getTime() + duration * 1000)),
        HangupCause: "NORMAL_CLEARING",
        HangupCauseCode: "4000",
        HangupCauseName: "Normal Hangup",
        HangupSource: "Caller",
        TotalCost: "0.00000",
      };
    case "ring":
      return {
        ...callFields(call, "ringing"),
        Direction: "outbound",
        Event: "Ring",
        RequestUUID: randomUUID(),
      };
    case "callinitiated":
      return { ...callFields(call, "ringing"), Event: "CallInitiated" };
    case "gather":
      return { ...base, InputType: "dtmf", Digits: "1", Speech: "" };
    case "dialaction":
      return {
        ...base,
        Event: "DialAction",
        DialStatus: "completed",
        DialRingStatus: "true",
        DialHangupCause: "NORMAL_CLEARING",
        DialALegUUID: call.callUuid,
        DialBLegUUID: randomUUID(),
      };
    case "dialanswer":
    case "dialhangup":
      return {
        ...base,
        Event: type.toLowerCase() === "dialanswer" ? "DialAnswer" : "DialHangup",
        DialAction: type.toLowerCase() === "dialanswer" ? "answer" : "hangup",
        DialALegUUID: call.callUuid,
        DialBLegUUID: randomUUID(),
        DialBLegStatus: type.toLowerCase() === "dialanswer" ? "answer" : "hangup",
        DialBLegFrom: call.to,
        DialBLegTo: "918040005555",
      };
    case "recordstop": {
      const id = randomUUID();
      return {
        ...base,
        Event: "RecordStop",
        RecordingID: id,
        RecordUrl: `https://media.vobiz.ai/recordings/${id}.mp3`,
        RecordingDuration: "42",
        RecordingDurationMs: "42000",
        RecordingStartMs: String(now.getTime() - 42_000),
        RecordingEndMs: String(now.getTime()),
        RecordingEndReason: "FinishedOnKey",
      };
    }
    case "conferenceenter":
    case "conferenceexit": {
      const enter = type.toLowerCase() === "conferenceenter";
      return {
        ...(enter ? base : { CallUUID: call.callUuid }),
        Event: enter ? "ConferenceEnter" : "ConferenceExit",
        ConferenceAction: enter ? "enter" : "exit",
        ConferenceUUID: randomUUID(),
        ConferenceName: "support-room",
        ConferenceMemberID: "1",
        ...(enter ? { ConferenceFirstMember: "true" } : { ConferenceLastMember: "true" }),
      };
    }
    case "machinedetection":
      return {
        ...base,
        Direction: "outbound",
        Event: "MachineDetection",
        Machine: "false",
        IfMachine: "continue",
      };
    case "redirect":
      return { ...base, Event: "Redirect" };
    default:
      return { ...base, Event: type };
  }
}

export const SAMPLE_EVENT_TYPES = [
  "StartApp", "Hangup", "Ring", "CallInitiated", "Gather", "DialAction", "DialAnswer", "DialHangup",
  "RecordStop", "ConferenceEnter", "ConferenceExit", "MachineDetection", "Redirect",
]; // prettier-ignore
