/**
 * A caller is never left in silence (SPEC §5.2): with Redis down, /answer still replies with XML and the
 * event goes to the local journal (fsync'd); once Redis is back every journaled event is stored and
 * processed.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { Redis } from "ioredis";
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
