/**
 * A copy of a payload fit for traces, logs and dead letters: fields whose names say they hold credentials,
 * and any value equal to a configured secret or token, become "[redacted]". Pure.
 */
const SECRET_NAME = /(token|secret|passw(or)?d|api[-_]?key|authorization|signature|credential)/i;
export const REDACTED = "[redacted]";

export function redactPayload(value: unknown, secretValues: ReadonlySet<string>): unknown {
  if (typeof value === "string") return secretValues.has(value) ? REDACTED : value;
  if (Array.isArray(value)) return value.map((item) => redactPayload(item, secretValues));
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value).map(([name, child]) => [
      name,
      SECRET_NAME.test(name) ? REDACTED : redactPayload(child, secretValues),
    ]),
  );
}

/** Whether redactPayload would change anything (checked without copying). */
export function needsRedaction(value: unknown, secretValues: ReadonlySet<string>): boolean {
  if (typeof value === "string") return secretValues.has(value);
  if (Array.isArray(value)) return value.some((item) => needsRedaction(item, secretValues));
  if (value === null || typeof value !== "object") return false;
  for (const name of Object.keys(value)) {
    if (secretName(name) || needsRedaction((value as Record<string, unknown>)[name], secretValues))
      return true;
  }
  return false;
}

/** payloads repeat the same few field names: remember which are secret names */
const secretNames = new Map<string, boolean>();
function secretName(name: string): boolean {
  let secret = secretNames.get(name);
  if (secret === undefined) {
    secret = SECRET_NAME.test(name);
    if (secretNames.size < 10_000) secretNames.set(name, secret);
  }
  return secret;
}
