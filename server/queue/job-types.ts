/** What an event job carries: everything a worker needs, so any worker on any machine can run it. */
export interface EventJobData {
  id: string;
  route: "events" | "answer";
  method: string;
  /** the request path, as received */
  path: string;
  query: Record<string, string | string[]>;
  /**
   * The body exactly as received (for GET, the query string); workers parse the payload from it again
   * with events/parse-payload.ts `payloadOf`, and form forwards send it byte for byte.
   */
  raw: string;
  /** "" for GET (the raw text is a query string) */
  contentType: string;
  receivedAt: string;
  verification: VerificationSummary;
}

export interface VerificationSummary {
  /** "verified", or "skipped" under SIGNATURE_POLICY=off */
  result: "verified" | "skipped";
  scheme?: string;
}

export const QUEUE_NAMES = { events: "events", actions: "actions" } as const;
