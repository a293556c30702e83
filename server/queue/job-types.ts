/** What an event job carries: everything a worker needs, so any worker on any machine can run it. */
export interface EventJobData {
  id: string;
  route: "events" | "answer";
  method: string;
  /** the request path, as received */
  path: string;
  query: Record<string, string | string[]>;
  /** the parsed payload (form fields are strings; repeated fields arrays of strings) */
  payload: Record<string, unknown>;
  /** the body exactly as received (for GET, the query string) */
  raw: string;
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
