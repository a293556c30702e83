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
 * Redacted by path wherever Switchboard logs them: credential and signature headers (under `headers`,
 * `req.headers`, `request.headers`, `response.headers`), tokens (alone or under `config`/`vobiz`) and every
 * `secrets.*` value (alone or under `context`/`template`). Paths are anchored on purpose: leading
 * wildcards make the redactor walk every key of every line, which cost a tenth of a request's CPU.
 */
const TOKEN_NAMES = ["token", "authToken", "authTokenPrevious", "parentAuthToken", "adminToken"];
export const REDACT_PATHS: string[] = [
  ...["headers", "req.headers", "request.headers", "response.headers"].flatMap((parent) =>
    SECRET_HEADERS.map((name) => `${parent}["${name}"]`),
  ),
  ...TOKEN_NAMES.flatMap((name) => [name, `config.${name}`, `vobiz.${name}`, `config.vobiz.${name}`]),
  "secrets.*",
  "context.secrets.*",
  "template.secrets.*",
  "config.secrets.*",
];

export interface LoggerOptions {
  level: string;
  /**
   * Where JSON lines go. By default stdout through `bufferedDestination(1)`; main.ts flushes it on
   * shutdown and on fatal errors. Tests pass a sink.
   */
  destination?: DestinationStream;
}

/**
 * Lines written to `fd` in 4 KiB writes (one syscall per line was the largest single cost of an ingested
 * event), and never held longer than `flushAfterMs`: on a quiet service the `listening` line, a refused
 * request or a reload shows when it happens. Under load the buffer fills first, so the timer adds at most
 * one write a second.
 *
 * The lines are gathered here and handed to sonic-boom (pino.destination) about 4 KiB at a time:
 * sonic-boom measures the byte length of all it holds on every write, which cost about 4 µs per line
 * (a quarter of the line's cost) once several KiB were waiting. flush, flushSync and end (which pino calls
 * on exit and main.ts on shutdown) hand over what is gathered first; flushSync so that it is written
 * synchronously with the rest.
 */
export function bufferedDestination(
  fd: number,
  options: { minLength?: number; flushAfterMs?: number } = {},
): DestinationStream & { flush(): void } {
  const minLength = options.minLength ?? 4096;
  const stream = pino.destination({ dest: fd, sync: false, minLength });
  const flushAfterMs = options.flushAfterMs ?? 1000;
  const write = stream.write.bind(stream);
  const flush = stream.flush.bind(stream);
  const flushSync = stream.flushSync.bind(stream);
  const end = stream.end.bind(stream);
  let gathered = "";
  const handOver = (): void => {
    if (gathered === "") return;
    const text = gathered;
    gathered = "";
    write(text);
  };
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    if (timer !== undefined) return;
    timer = setTimeout(flushNow, flushAfterMs);
    timer.unref();
  };
  const flushNow = (): void => {
    timer = undefined;
    try {
      stream.flush();
    } catch {
      return; // destroyed at exit: nothing left to write to
    }
    // a write was in flight, so sonic-boom's flush did nothing: what it holds would wait for the next line
    if ((stream as unknown as { _writing: boolean })._writing) arm();
  };
  stream.write = (chunk: string): boolean => {
    gathered += chunk;
    if (gathered.length >= minLength) handOver();
    arm();
    return true;
  };
  stream.flush = (cb?: (error?: Error) => void): void => {
    try {
      handOver();
    } catch (error) {
      if (cb === undefined) throw error;
      cb(error as Error); // destroyed: as sonic-boom's own flush reports it
      return;
    }
    flush(cb);
  };
  stream.flushSync = (): void => {
    // handed over without letting sonic-boom start an asynchronous write: flushSync would leave that
    // write behind, and at exit (pino's handler, a fatal line, process.exit) its lines would be lost
    const limits = stream as unknown as { minLength: number }; // sonic-boom's, not in its types
    const held = limits.minLength;
    limits.minLength = Infinity;
    try {
      handOver();
    } finally {
      limits.minLength = held;
    }
    flushSync();
  };
  stream.end = (): void => {
    handOver();
    end();
  };
  return stream;
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
    options.destination ?? bufferedDestination(1),
  );
}
