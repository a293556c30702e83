/**
 * `GET /admin/events/export` (SPEC §7): recorded events as NDJSON, one line each, written as they are read
 * (a page of traces at a time). A line holds what is needed to evaluate the event again offline
 * (`switchboard backtest`): the request as received (raw body, method, path, query, content type, receive
 * time) and the decision recorded for it.
 */
import type { Redis } from "ioredis";
import { scanEvents, type EventFilter, type ScanOptions, type ScannedEvent } from "./event-filter.ts";
import { tracedEvent } from "./trace-store.ts";
import { contentTypeOf } from "./parse-payload.ts";

export interface ExportedEvent {
  id: string;
  type: string | null;
  route: string;
  method: string;
  path: string;
  query: unknown;
  contentType: string;
  /** the body as received ("" when the trace keeps only a redacted copy: see `payload`) */
  raw: string;
  /** only when the payload held secret values: the redacted copy (the raw text is not kept) */
  payload?: unknown;
  receivedAt: string;
  status: string;
  replayOf: string | null;
  /** the recorded decision: null while the event is not decided yet */
  decision: {
    ruleset: unknown;
    matched: string[];
    actions: Array<{ rule: string; index: number; type: string; note?: string; state?: unknown }>;
  } | null;
  /** an /answer event's reply: outcome and responding rule */
  answer: unknown;
}

export function exportedEvent({ id, trace, view }: ScannedEvent): ExportedEvent {
  const event = tracedEvent(trace);
  const line: ExportedEvent = {
    id,
    type: view.type ?? null,
    route: event.route,
    method: event.method,
    path: event.path,
    query: event.query,
    contentType: contentTypeOf(event),
    raw: event.raw,
    receivedAt: event.receivedAt,
    status: view.status,
    replayOf: view.replayOf,
    decision:
      view.state === "dispatched"
        ? {
            ruleset: view.ruleset,
            matched: (view.matches as Array<{ id: string }>).map((match) => match.id),
            actions: view.actions.map((action) => {
              const item: NonNullable<ExportedEvent["decision"]>["actions"][number] = {
                rule: action.rule as string,
                index: action.index as number,
                type: action.type as string,
              };
              if (typeof action.note === "string") item.note = action.note;
              if (action.state !== undefined) item.state = action.state;
              return item;
            }),
          }
        : null,
    answer: view.answer,
  };
  if (event.payload !== undefined) line.payload = event.payload;
  return line;
}

/** The export's lines (each ends with a newline), newest first. */
export async function* exportLines(
  redis: Redis,
  prefix: string,
  filter: EventFilter,
  options: ScanOptions,
): AsyncGenerator<string> {
  for await (const scanned of scanEvents(redis, prefix, filter, options))
    yield `${JSON.stringify(exportedEvent(scanned))}\n`;
}
