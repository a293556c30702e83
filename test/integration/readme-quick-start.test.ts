/**
 * Follows the README's Quick start literally: every command of its `sh` blocks, in order, with the
 * environment it exports, against a real `npm start` process (`node --import tsx server/main.ts`). The
 * `switchboard` commands run in this process with the same arguments, environment and folder (the bin
 * itself is tested in test/unit/cli; spawning it ten times is slow on a busy machine). Three things
 * differ, because the test machine is shared: the service gets a free port and the test Redis (the CLI
 * gets the same PORT, as it would read it), the tunnel block is skipped, and the tiny receiver is a test
 * HTTP sink (its port replaces 4000 in the rule file).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cp, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { findFreePort } from "../../server/redis/find-free-port.ts";
import { runCommand, type CliRun } from "../helpers/cli.ts";
import { startHttpSink } from "../helpers/http-sink.ts";
import { ROOT, startMainProcess, type RunningProcess } from "../helpers/process.ts";
import { useTestRedis } from "../helpers/redis.ts";

const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");
const quickStart = readme.split(/^## Quick start$/m)[1]?.split(/^## /m)[0] ?? "";

/** The commands of each ```sh block, a heredoc kept whole with its body. */
function blocks(section: string): string[][] {
  return [...section.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((match) => {
    const commands: string[] = [];
    const lines = (match[1] ?? "").split("\n");
    for (let i = 0; i < lines.length; i += 1) {
      const line = lines[i] ?? "";
      if (line.trim() === "" || line.startsWith("#")) continue;
      const heredoc = /<<'(\w+)'$/.exec(line);
      if (!heredoc) {
        commands.push(line);
        continue;
      }
      const end = lines.indexOf(heredoc[1] ?? "", i);
      commands.push(lines.slice(i, end + 1).join("\n"));
      i = end;
    }
    return commands;
  });
}

const testRedis = useTestRedis(import.meta.url);
const dir = await mkdtemp(path.join(os.tmpdir(), "switchboard-quick-start-"));
after(() => rm(dir, { recursive: true, force: true }));
await cp(path.join(ROOT, "rules"), path.join(dir, "rules"), { recursive: true });
await cp(path.join(ROOT, "templates"), path.join(dir, "templates"), { recursive: true });
const sink = await startHttpSink();
const sinkPort = new URL(sink.url).port;

test("the README Quick start, followed literally, gets a signed event, a first rule and a simulated IVR call", async () => {
  const steps = blocks(quickStart);
  assert.ok(steps.length >= 4, "the Quick start has its command blocks");
  const port = String(await findFreePort());
  const env: Record<string, string> = { PORT: port };
  let service: RunningProcess | undefined;
  testRedis.onCleanup(async () => {
    if (service === undefined || service.child.exitCode !== null) return;
    service.child.kill("SIGTERM");
    await service.exited;
  });
  const cli: CliRun[] = [];
  const done: string[] = [];
  for (const commands of steps) {
    if (commands.some((command) => /cloudflared|ngrok/.test(command))) continue; // the tunnel
    for (const command of commands) {
      if (command === "npm install") continue; // this checkout is installed
      if (command.startsWith("export ")) {
        for (const found of command.matchAll(/(\w+)=(?:'([^']*)'|(\S+))/g))
          env[found[1] ?? ""] = found[2] ?? found[3] ?? "";
      } else if (command === "npm start") {
        service = startMainProcess({
          ...env,
          HOST: "127.0.0.1",
          DATA_DIR: path.join(dir, "var"),
          REDIS_URL: testRedis.url,
          REDIS_PREFIX: testRedis.prefix,
          RULES_DIR: path.join(dir, "rules"),
          TEMPLATES_DIR: path.join(dir, "templates"),
        });
        const deadline = Date.now() + 60_000;
        // the listening line shows while the service is otherwise quiet (log lines are not held back)
        while (!service.output().includes('"msg":"listening"')) {
          assert.ok(Date.now() < deadline && service.child.exitCode === null, service.output());
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      } else if (command.startsWith("node -e") && command.endsWith("&")) {
        assert.match(command, /listen\(4000\)/); // the receiver: the sink plays it
      } else if (command.startsWith("npx switchboard")) {
        for (const part of command.split(" && ")) {
          const argv = part.replace(/^npx switchboard /, "").split(" ");
          const run = await runCommand(argv, { cwd: dir, env });
          assert.equal(run.code, 0, `${part}\n${run.stdout}${run.stderr}`);
          cli.push(run);
          done.push(argv[0] ?? "");
        }
      } else {
        const shell = spawnSync(
          "bash",
          ["-c", command.replaceAll("127.0.0.1:4000", `127.0.0.1:${sinkPort}`)],
          {
            cwd: dir,
            encoding: "utf8",
          },
        );
        assert.equal(shell.status, 0, `${command}\n${shell.stderr}`);
      }
    }
  }
  assert.ok(service, "the Quick start starts the service");
  assert.deepEqual(done, ["send", "events", "check", "test", "reload", "send", "events", "simulate"]);
  const [firstSend, firstEvents, , , reload, , , simulate] = cli;
  assert.match(firstSend?.stdout ?? "", /→ 200\n\{"status":"received","id":"evt_/);
  assert.match(firstEvents?.stdout ?? "", /Hangup +\/events +\(no rule\) {2}ok/);
  assert.match(reload?.stdout ?? "", /^ok {3}/m);
  // the first rule delivered the second hangup to the receiver
  const [delivered] = await sink.waitFor(1, 30_000);
  assert.equal(delivered?.url, "/hangups?caller=%2B919876543210");
  assert.match(delivered?.body ?? "", /Event=Hangup&/);
  let events = "";
  for (const deadline = Date.now() + 30_000; !/my\.hangups {2}ok 1\/1 delivered/.test(events);) {
    assert.ok(Date.now() < deadline, events);
    events = (await runCommand(["events"], { cwd: dir, env })).stdout;
  }
  assert.match(simulate?.stdout ?? "", /^1\. POST \/answer\/support {2}StartApp/m);
  assert.match(simulate?.stdout ?? "", /caller hears "/);
  assert.match(simulate?.stdout ?? "", /^ended: call /m);
});
