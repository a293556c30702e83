import { pino, type DestinationStream, type Logger } from "pino";

export type { Logger } from "pino";

const SIGNATURE_HEADERS = [
  "x-vobiz-signature",
  "x-vobiz-signature-v2",
  "x-vobiz-signature-v3",
  "x-vobiz-signature-ma-v2",
  "x-vobiz-signature-ma-v3",
  "webhook-signature",
];
const SECRET_HEADERS = ["authorization", "x-auth-token", "cookie", ...SIGNATURE_HEADERS];

/**
 * Redacted by path wherever they appear in a log line: headers that carry credentials or signatures
 * (at the top level, under req/request/headers, one level deeper), tokens and `secrets.*`.
 */
export const REDACT_PATHS: string[] = [
  ...SECRET_HEADERS.flatMap((name) => [
    `headers["${name}"]`,
    `req.headers["${name}"]`,
    `request.headers["${name}"]`,
    `*.headers["${name}"]`,
  ]),
  "token",
  "*.token",
  "authToken",
  "*.authToken",
  "adminToken",
  "*.adminToken",
  "authTokenPrevious",
  "*.authTokenPrevious",
  "parentAuthToken",
  "*.parentAuthToken",
  "secrets.*",
  "*.secrets.*",
];

export interface LoggerOptions {
  level: string;
  /** where JSON lines go; stdout by default (tests pass a sink) */
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { service: "switchboard" },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: "[redacted]" },
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination,
  );
}
