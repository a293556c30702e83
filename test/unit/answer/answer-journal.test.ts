import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { open } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { createAnswerJournal } from "../../../server/answer/answer-journal.ts";
import type { IncomingEvent, IngestResult } from "../../../server/events/ingest.ts";
import { createLogSink } from "../../helpers/log-sink.ts";

const event = (call: string): IncomingEvent => ({
  route: "answer",
  method: "POST",
  path: "/answer",
  url: "/answer",
  query: {},
  payload: { CallUUID: call },
  raw: `CallUUID=${call}`,
  contentType: "application/x-www-form-urlencoded",
  requestId: call,
  verification: { result: "skipped" },
});

test("a full disk: the append fails, the event is held, the next append opens a new file and works", async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "switchboard-journal-unit-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  let opened = 0;
  const stored: string[] = [];
  const journal = createAnswerJournal({
    dir,
    log: createLogSink("fatal").log,
    // the first file is /dev/full: every write to it fails with ENOSPC, as on a full disk
    openFile: (file) => (opened++ === 0 ? open("/dev/full", "a") : open(file, "a")),
    ingest: (incoming) => {
      stored.push(incoming.requestId);
      return Promise.resolve({ id: incoming.requestId } as IngestResult);
    },
  });
  assert.equal(await journal.write(event("first")), "held");
  assert.equal(
    await journal.write(event("second")),
    "journaled",
    "one failed append does not break the next",
  );
  assert.equal(journal.held(), 1);
  const lines = readdirSync(dir).flatMap((name) => readFileSync(path.join(dir, name), "utf8").split("\n"));
  assert.ok(lines.some((line) => line.includes('"second"')));
  assert.equal(await journal.replay(), 2);
  assert.deepEqual(stored.sort(), ["first", "second"], "the held event is stored too");
  assert.equal(journal.pending(), 0);
  await journal.close();
});
