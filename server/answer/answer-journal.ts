/**
 * The answer journal (SPEC §2.2, §5.2): when Redis cannot take an /answer request's event, the caller
 * still gets its XML and the event is appended (fsync'd) to a JSON-lines file under `DATA_DIR/journal`.
 * A replay loop stores journaled events as soon as Redis is back (ingest de-duplicates, so an event that
 * did reach Redis after all is not stored twice). Files left by an earlier run are replayed too.
 *
 * No event is stranded:
 * - an append that fails (disk full, I/O error) closes that file and keeps the event in memory; the next
 *   append opens a new file, and the replay loop writes held events to disk when it can, or stores them
 *   in Redis directly (`held` counts them; they are lost only if the process dies before either);
 * - a file is claimed for replay by renaming it `<file>.replaying-<pid>-<token>`, so two processes
 *   sharing the folder never replay it at once; the replaying process touches it while it works. A
 *   claimed file whose process is gone (its pid is not running here, or is this process's own pid but
 *   not its token, as after a restart in a container) or that was not touched for `staleClaimMs` is
 *   claimed again and replayed.
 */
import { randomBytes } from "node:crypto";
import {
  mkdir,
  open,
  readFile,
  readdir,
  rename,
  stat,
  unlink,
  utimes,
  type FileHandle,
} from "node:fs/promises";
import path from "node:path";
import { isAppError } from "../errors.ts";
import type { IncomingEvent, Ingest } from "../events/ingest.ts";
import type { Logger } from "../logger.ts";

export interface AnswerJournal {
  /**
   * appends an event and fsyncs it ("journaled"); when the disk fails, keeps it in memory for the replay
   * loop ("held"). Rejects only when the disk fails and `maxHeld` events are already held.
   */
  write(event: IncomingEvent): Promise<"journaled" | "held">;
  /** stores every journaled (and held) event it can; returns how many were stored */
  replay(): Promise<number>;
  /** events written and not yet replayed by this process */
  pending(): number;
  /** events only in memory (the disk refused them) */
  held(): number;
  start(intervalMs?: number): void;
  close(): Promise<void>;
}

export interface AnswerJournalDeps {
  dir: string;
  ingest: Ingest;
  log: Logger;
  /** opens a journal file for appending (tests pass one that fails like a full disk) */
  openFile?: (file: string) => Promise<FileHandle>;
  /** a claim not touched for this long belongs to a process that is gone */
  staleClaimMs?: number;
  maxHeld?: number;
}

const CLAIMED = /^(.+\.jsonl)\.replaying-(\d+)(?:-([0-9a-f]+))?$/;

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

export function createAnswerJournal(deps: AnswerJournalDeps): AnswerJournal {
  const { dir, log } = deps;
  const openFile = deps.openFile ?? ((file: string) => open(file, "a"));
  const staleClaimMs = deps.staleClaimMs ?? 60_000;
  const maxHeld = deps.maxHeld ?? 10_000;
  const token = randomBytes(4).toString("hex");
  let handle: FileHandle | undefined;
  let current: string | undefined;
  let sequence = 0;
  let written = 0;
  const heldEvents: IncomingEvent[] = [];
  let timer: NodeJS.Timeout | undefined;
  let replaying: Promise<number> | undefined;
  let writing: Promise<unknown> = Promise.resolve();

  const rotate = async (): Promise<void> => {
    const closing = handle;
    handle = undefined;
    current = undefined;
    await closing?.close().catch(() => undefined);
  };

  const append = async (lines: string): Promise<void> => {
    if (handle === undefined) {
      await mkdir(dir, { recursive: true });
      sequence += 1;
      current = path.join(dir, `journal-${process.pid}-${Date.now()}-${sequence}.jsonl`);
      handle = await openFile(current);
    }
    await handle.appendFile(lines);
    await handle.datasync();
  };

  const write = (event: IncomingEvent): Promise<"journaled" | "held"> => {
    // one append at a time, so lines never interleave and rotation never cuts one
    const done = writing.then(async (): Promise<"journaled" | "held"> => {
      try {
        await append(`${JSON.stringify(event)}\n`);
        written += 1;
        return "journaled";
      } catch (error) {
        // the file may end in a partial line: never append to it again
        await rotate();
        if (heldEvents.length >= maxHeld) throw error;
        heldEvents.push(event);
        log.error(
          { err: error, eventId: event.id, held: heldEvents.length },
          "could not append to the answer journal; the event is held in memory until it is stored",
        );
        return "held";
      }
    });
    writing = done.catch(() => undefined);
    return done;
  };

  /** held events: to disk if it takes them, else straight into Redis */
  const settleHeld = async (): Promise<number> => {
    if (heldEvents.length === 0) return 0;
    const events = heldEvents.splice(0);
    const flushed = writing.then(async () => {
      try {
        await append(events.map((event) => `${JSON.stringify(event)}\n`).join(""));
        written += events.length;
        return true;
      } catch {
        await rotate();
        return false;
      }
    });
    writing = flushed;
    if (await flushed) return 0;
    let stored = 0;
    for (const [index, event] of events.entries()) {
      try {
        await deps.ingest(event);
        stored += 1;
      } catch (error) {
        if (isAppError(error) && error.code === "QUEUE_UNAVAILABLE") {
          heldEvents.unshift(...events.slice(index));
          break;
        }
        log.error({ err: error, eventId: event.id }, "a held answer event could not be stored; dropped");
      }
    }
    return stored;
  };

  const replayFile = async (source: string, base: string): Promise<{ stored: number; left: string[] }> => {
    const claimed = `${base}.replaying-${process.pid}-${token}`;
    try {
      await rename(source, claimed);
    } catch {
      return { stored: 0, left: [] }; // another process took it
    }
    const lines = (await readFile(claimed, "utf8")).split("\n").filter((line) => line.trim() !== "");
    let stored = 0;
    let touched = Date.now();
    const left: string[] = [];
    for (const [index, line] of lines.entries()) {
      if (Date.now() - touched > staleClaimMs / 4) {
        touched = Date.now();
        await utimes(claimed, new Date(), new Date()).catch(() => undefined);
      }
      let event: IncomingEvent;
      try {
        event = JSON.parse(line) as IncomingEvent;
      } catch {
        log.error(
          { file: base, line: index + 1 },
          "an unreadable journal line (cut by a failed write) skipped",
        );
        continue;
      }
      try {
        await deps.ingest(event);
        stored += 1;
      } catch (error) {
        if (isAppError(error) && error.code === "QUEUE_UNAVAILABLE") {
          left.push(...lines.slice(index));
          break;
        }
        log.error(
          { err: error, file: base },
          "a journaled event could not be stored; dropped from the journal",
        );
      }
    }
    if (left.length > 0) {
      const back = await open(base, "a");
      await back.appendFile(`${left.join("\n")}\n`);
      await back.datasync();
      await back.close();
    }
    await unlink(claimed);
    return { stored, left };
  };

  /** the files to replay: unclaimed ones, and claims of processes that are gone */
  const replayable = async (): Promise<Array<{ source: string; base: string }>> => {
    let names: string[];
    try {
      names = (await readdir(dir)).sort();
    } catch {
      return [];
    }
    const files: Array<{ source: string; base: string }> = [];
    for (const name of names) {
      const source = path.join(dir, name);
      if (name.endsWith(".jsonl")) {
        if (source !== current) files.push({ source, base: source });
        continue;
      }
      const claim = CLAIMED.exec(name);
      if (claim === null) continue;
      const pid = Number(claim[2]);
      if (pid === process.pid && claim[3] === token) continue; // ours, being replayed now
      let gone = pid === process.pid || !isRunning(pid);
      if (!gone) {
        const modified = await stat(source).then(
          (info) => info.mtimeMs,
          () => Date.now(),
        );
        gone = Date.now() - modified > staleClaimMs;
      }
      if (gone) {
        log.warn({ file: name }, "replaying a journal file claimed by a process that is gone");
        files.push({ source, base: path.join(dir, claim[1] ?? name) });
      }
    }
    return files;
  };

  const replay = (): Promise<number> =>
    (replaying ??= (async () => {
      let stored = 0;
      try {
        stored += await settleHeld();
        // the file being appended to is closed (in turn with the appends) so that it can be replayed
        const rotated = writing.then(rotate);
        writing = rotated;
        await rotated;
        for (const { source, base } of await replayable()) {
          const result = await replayFile(source, base);
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
    pending: () => written + heldEvents.length,
    held: () => heldEvents.length,
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
      // held events get a last chance to reach the disk
      if (heldEvents.length > 0) await settleHeld().catch(() => undefined);
      if (heldEvents.length > 0)
        log.error({ held: heldEvents.length }, "answer events only held in memory are lost at this stop");
      await rotate();
    },
  };
}
