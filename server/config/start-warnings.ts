/** Settings a service starts with but should not run with unnoticed: logged at start, shown on /ready. */
import type { Config } from "./load-config.ts";

export function startWarnings(config: Readonly<Config>): string[] {
  if (config.signaturePolicy === "off")
    return [
      "SIGNATURE_POLICY=off: requests are NOT verified; anyone who can reach this service can inject events",
    ];
  if (!config.vobiz.authToken && !config.vobiz.parentAuthToken)
    return ["VOBIZ_AUTH_TOKEN is not set: every request to /events and /answer will be refused (401)"];
  return [];
}

/** Values that must never appear in traces, logs or dead letters. */
export function secretValues(config: Readonly<Config>): ReadonlySet<string> {
  const values = [
    ...Object.values(config.secrets),
    config.vobiz.authToken,
    config.vobiz.authTokenPrevious,
    config.vobiz.parentAuthToken,
    config.adminToken,
  ];
  return new Set(values.filter((value): value is string => typeof value === "string" && value.length >= 4));
}
