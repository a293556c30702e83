/**
 * The answer journal (SPEC §2.2, §5.2): when Redis cannot take an /answer request's event, the caller
 * still gets its XML and the event is appended (fsync'd) to a JSON-lines file under `DATA_DIR/journal`.
 * A replay loop stores journaled events as soon as Redis is back (ingest de-duplicates, so an event that
 * did reach Redis after all is not stored twice). Files left by an earlier run are replayed too; a file
 * is claimed by renaming it, so two processes sharing the folder never replay the same file.
 */
import { mkdir, open, readFile, readdir, rename, unlink, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { isAppError } from "../errors.ts";
import type { IncomingEvent, Ingest } from "../events/ingest.ts";
import type { Logger } from "../logger.ts";

export interface AnswerJournal {
  /** appends an event and fsyncs it */
  write(event: IncomingEvent): Promise<void>;
  /** stores every journaled event it can; returns how many were stored */
  replay(): Promise<number>;
  /** events written and not yet replayed by this process */
  pending(): number;
  start(intervalMs?: number): void;
  close(): Promise<void>;
}

export function createAnswerJournal(deps: { dir: string; ingest: Ingest; log: Logger }): AnswerJournal {
  const { dir, log } = deps;
  let handle: FileHandle | undefined;
  let current: string | undefined;
  let sequence = 0;
  let written = 0;
  let timer: NodeJS.Timeout | undefined;
  let replaying: Promise<number> | undefined;
  let writing: Promise<void> = Promise.resolve();

  const rotate = async (): Promise<void> => {
    await handle?.close();
    handle = undefined;
    current = undefined;
  };

  const write = (event: IncomingEvent): Promise<void> => {
    // one append at a time, so lines never interleave and rotation never cuts one
    writing = writing.then(async () => {
      if (handle === undefined) {
        await mkdir(dir, { recursive: true });
        sequence += 1;
        current = path.join(dir, `journal-${process.pid}-${Date.now()}-${sequence}.jsonl`);
        handle = await open(current, "a");
      }
      await handle.appendFile(`${JSON.stringify(event)}\n`);
      await handle.datasync();
      written += 1;
    });
    return writing;
  };

  const replayFile = async (file: string): Promise<{ stored: number; left: string[] }> => {
    const claimed = `${file}.replaying-${process.pid}`;
    try {
      await rename(file, claimed);
    } catch {
      return { stored: 0, left: [] }; // another process took it
    }
    const lines = (await readFile(claimed, "utf8")).split("\n").filter((line) => line.trim() !== "");
    let stored = 0;
    const left: string[] = [];
    for (const [index, line] of lines.entries()) {
      if (left.length > 0) {
        left.push(line);
        continue;
      }
      try {
        await deps.ingest(JSON.parse(line) as IncomingEvent);
        stored += 1;
      } catch (error) {
        if (isAppError(error) && error.code === "QUEUE_UNAVAILABLE")
          left.push(...lines.slice(index, index + 1));
        else
          log.error({ err: error, file }, "a journaled event could not be stored; dropped from the journal");
      }
    }
    if (left.length > 0) {
      const back = await open(file, "a");
      await back.appendFile(`${left.join("\n")}\n`);
      await back.datasync();
      await back.close();
    }
    await unlink(claimed);
    return { stored, left };
  };

  const replay = (): Promise<number> =>
    (replaying ??= (async () => {
      let stored = 0;
      try {
        await writing;
        if (current !== undefined) await rotate();
        let names: string[];
        try {
          names = (await readdir(dir)).filter((name) => name.endsWith(".jsonl")).sort();
        } catch {
          return 0;
        }
        for (const name of names) {
          const result = await replayFile(path.join(dir, name));
          stored += result.stored;
          if (result.left.length > 0) break; // Redis is still away
        }
        written = Math.max(0, written - stored);
        if (stored > 0) log.info({ stored }, "journaled answer events stored in Redis");
        return stored;
      } finally {
        replaying = undefined;
      }
    })());

  return {
    write,
    replay,
    pending: () => written,
    start(intervalMs = 2000) {
      timer = setInterval(() => {
        replay().catch((error: unknown) => log.warn({ err: error }, "journal replay failed"));
      }, intervalMs);
      timer.unref();
    },
    async close() {
      if (timer) clearInterval(timer);
      await writing.catch(() => undefined);
      await replaying?.catch(() => undefined);
      await rotate();
    },
  };
}
