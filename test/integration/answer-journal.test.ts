/**
 * A caller is never left in silence (SPEC §5.2): with Redis down, /answer still replies with XML and the
 * event goes to the local journal (fsync'd); once Redis is back every journaled event is stored and
 * processed.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { Redis } from "ioredis";
import type { IncomingEvent } from "../../server/events/ingest.ts";
import { startEmbeddedRedis, type EmbeddedRedis } from "../../server/redis/embedded-redis.ts";
import { createLogSink } from "../helpers/log-sink.ts";
import { startHttpSink } from "../helpers/http-sink.ts";
import { scratchRuleset } from "../helpers/rules.ts";
import { startTestService } from "../helpers/service.ts";
import { sendVobiz } from "../helpers/vobiz.ts";

const dir = mkdtempSync(path.join(os.tmpdir(), "switchboard-journal-"));
const sink = await startHttpSink();
const logs = createLogSink("warn");
let redis: EmbeddedRedis = await startEmbeddedRedis({ dir: path.join(dir, "redis"), log: logs.log });
const port = Number(new URL(redis.url).port);
const disk = await scratchRuleset({
  rules: {
    "answer.json": {
      rules: [
        {
          id: "greet",
          on: "StartApp",
          path: "/answer/**",
          actions: [{ type: "respond", xml: "<Response><Speak>Hello <<CallUUID>></Speak></Response>" }],
        },
        {
          id: "crm",
          on: "StartApp",
          actions: [
            {
              type: "forward",
              url: `${sink.url}/crm?call=<<CallUUID>>`,
              retry: { attempts: 2, delay: "50ms", backoff: "fixed" },
            },
          ],
        },
      ],
    },
  },
});
const service = await startTestService(import.meta.url, {
  REDIS_URL: redis.url,
  RULES_DIR: disk.rulesDir,
  TEMPLATES_DIR: disk.templatesDir,
  DATA_DIR: path.join(dir, "var"),
});
after(async () => {
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("Redis down: /answer still replies, the events are journaled, and processed once Redis is back", async () => {
  await redis.stop();
  const calls = Array.from({ length: 5 }, (_, i) => `journal-${process.pid}-${i}`);
  for (const call of calls) {
    const response = await sendVobiz(service.url, "/answer/main", {
      Event: "StartApp",
      CallUUID: call,
      From: "919876543210",
    });
    assert.equal(response.status, 200);
    assert.equal(await response.text(), `<Response><Speak>Hello ${call}</Speak></Response>`);
  }
  const journalDir = path.join(dir, "var", "journal");
  const lines = readdirSync(journalDir).flatMap((name) =>
    readFileSync(path.join(journalDir, name), "utf8").split("\n").filter(Boolean),
  );
  assert.equal(lines.length, 5, "every answer event is in the journal file");

  redis = await startEmbeddedRedis({ dir: path.join(dir, "redis"), log: logs.log, port });
  const received = await sink.waitFor(5, 20_000);
  assert.deepEqual(
    received.map((r) => new URL(r.url, "http://x").searchParams.get("call")).sort(),
    [...calls].sort(),
  );
  const client = new Redis(redis.url);
  try {
    assert.equal(await client.zcard(`${service.prefix}:index:events`), 5);
  } finally {
    client.disconnect();
  }
  const deadline = Date.now() + 5000;
  while (readdirSync(journalDir).length > 0 && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 50));
  assert.deepEqual(readdirSync(journalDir), [], "the journal is emptied once stored");
});

async function answerCall(call: string): Promise<Response> {
  return sendVobiz(service.url, "/answer/main", { Event: "StartApp", CallUUID: call, From: "919876543210" });
}

async function callsReceived(calls: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const seen = (): Set<string | null> =>
    new Set(sink.requests.map((r) => new URL(r.url, "http://x").searchParams.get("call")));
  while (!calls.every((call) => seen().has(call))) {
    assert.ok(
      Date.now() < deadline,
      `not delivered: ${calls.filter((call) => !seen().has(call)).join(", ")}`,
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test("a failing disk: the caller still gets XML, later appends work again, and no event is stranded", async () => {
  const journalDir = path.join(dir, "var", "journal");
  await redis.stop();
  // the journal folder replaced by a file: every append fails like a broken disk
  rmSync(journalDir, { recursive: true, force: true });
  writeFileSync(journalDir, "not a folder");
  const held = `disk-held-${process.pid}`;
  const response = await answerCall(held);
  assert.equal(response.status, 200, "never a JSON 500 for a store that failed");
  assert.equal(response.headers.get("content-type"), "application/xml; charset=utf-8");
  assert.equal(await response.text(), `<Response><Speak>Hello ${held}</Speak></Response>`);

  rmSync(journalDir, { force: true }); // the disk is back
  const later = `disk-later-${process.pid}`;
  assert.equal((await answerCall(later)).status, 200);
  const deadline = Date.now() + 10_000;
  const journaled = (): string => {
    try {
      return readdirSync(journalDir)
        .map((name) => readFileSync(path.join(journalDir, name), "utf8"))
        .join("");
    } catch {
      return "";
    }
  };
  while (!journaled().includes(later) && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 50));
  assert.match(journaled(), new RegExp(later), "an append after a failed one reaches the disk");

  redis = await startEmbeddedRedis({ dir: path.join(dir, "redis"), log: logs.log, port });
  await callsReceived([held, later]);
});

test("a journal file claimed by a process that crashed before replaying it is replayed", async () => {
  const journalDir = path.join(dir, "var", "journal");
  mkdirSync(journalDir, { recursive: true });
  const child = spawn(process.execPath, ["-e", ""]);
  await once(child, "exit");
  const deadPid = child.pid ?? 0;
  const line = (call: string): string => {
    const raw = new URLSearchParams({ Event: "StartApp", CallUUID: call }).toString();
    const event: IncomingEvent = {
      route: "answer",
      method: "POST",
      path: "/answer/main",
      url: "/answer/main",
      query: {},
      payload: { Event: "StartApp", CallUUID: call },
      raw,
      contentType: "application/x-www-form-urlencoded",
      requestId: `crashed-${call}`,
      verification: { result: "skipped" },
    };
    return `${JSON.stringify(event)}\n`;
  };
  const crashed = `claimed-by-dead-${process.pid}`;
  const stale = `claimed-stale-${process.pid}`;
  // the name the previous release gave a claim (no token), by a process that is gone
  writeFileSync(path.join(journalDir, `journal-${deadPid}-1-1.jsonl.replaying-${deadPid}`), line(crashed));
  // a claim by a running process (pid 1) that has not touched it for two minutes
  const staleFile = path.join(journalDir, `journal-1-1-1.jsonl.replaying-1-0badc0de`);
  writeFileSync(staleFile, line(stale));
  const old = new Date(Date.now() - 120_000);
  utimesSync(staleFile, old, old);

  await callsReceived([crashed, stale]);
  const deadline = Date.now() + 10_000;
  while (readdirSync(journalDir).length > 0 && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 50));
  assert.deepEqual(readdirSync(journalDir), [], "the claimed files are gone once replayed");
});
