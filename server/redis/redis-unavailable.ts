/**
 * Whether an error means Redis did not answer (ioredis on a fail-fast connection: a command timeout, a
 * closed or not yet writable connection, retries used up), as opposed to a bug or a refused command. The
 * HTTP layer answers those 503 QUEUE_UNAVAILABLE with Retry-After, never a 500: the request may be sent
 * again once Redis answers.
 */
const UNAVAILABLE = [
  /^Command timed out/,
  /^Connection is closed/,
  /^Stream isn't writeable/,
  /^Reached the max retries per request limit/,
  /^All sentinels are unreachable/,
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE/,
];

export function isRedisUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === "MaxRetriesPerRequestError") return true;
  return UNAVAILABLE.some((pattern) => pattern.test(error.message));
}
