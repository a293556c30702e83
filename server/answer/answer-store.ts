/**
 * Storing an /answer event (SPEC §2.2): through ingest while Redis answers; into the local journal while
 * it does not (a caller is waiting, so the reply never depends on Redis), replayed into Redis later.
 */
import { isAppError } from "../errors.ts";
import type { Ingest, IngestResult, IncomingEvent } from "../events/ingest.ts";
import type { Logger } from "../logger.ts";
import type { AnswerJournal } from "./answer-journal.ts";

export type AnswerStore = (event: IncomingEvent) => Promise<IngestResult | "journaled">;

export function createAnswerStore(deps: {
  ingest: Ingest;
  journal: AnswerJournal;
  log: Logger;
}): AnswerStore {
  return async (event) => {
    try {
      return await deps.ingest(event);
    } catch (error) {
      if (!isAppError(error) || error.code !== "QUEUE_UNAVAILABLE") throw error;
      // the journal keeps the request; the replay decides it again (the evaluation is not journaled)
      await deps.journal.write({ ...event, evaluated: undefined });
      deps.log.warn({ eventId: event.id, path: event.path }, "Redis unavailable: answer event journaled");
      return "journaled";
    }
  };
}
