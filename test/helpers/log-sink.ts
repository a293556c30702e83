import { Writable } from "node:stream";
import { createLogger, type Logger } from "../../server/logger.ts";

export interface LogSink {
  log: Logger;
  /** every JSON line written so far, parsed */
  lines(): Array<Record<string, unknown>>;
  /** the raw text written so far */
  text(): string;
}

/** A pino logger (with the service's redaction) writing into memory, for assertions on log lines. */
export function createLogSink(level = "debug"): LogSink {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  const log = createLogger({ level, destination });
  const text = (): string => chunks.join("");
  return {
    log,
    text,
    lines: () =>
      text()
        .split("\n")
        .filter((line) => line.trim() !== "")
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}
