/**
 * The fault drill (issue 18 item 7), run on demand, never in CI: `npm run drill [-- scenario ...]` or
 * `npx tsx bench/drill.ts [scenario ...]`. Scenarios: web-kill, worker-kill, redis-restart, failover,
 * destination-down, journal-full (default: all, in that order; about 10 minutes on a busy 2-core machine).
 *
 * Real processes: ROLE=web and ROLE=worker instances of `server/main.ts` as separate child processes, real
 * redis-server (and, for the failover, redis-sentinel) processes, and a real HTTP destination in this
 * process that counts deliveries by event and Idempotency-Key. Steady signed load (Hangup to /events, and
 * one in four a StartApp to /answer) runs before, during and after each fault; a request that got no 200
 * is sent again, byte-identical, up to 3 times (as Vobiz retries a callback). Then the drill waits (bounded)
 * until every acknowledged event is delivered and the queues are empty, and counts per scenario: events
 * sent, acknowledged (200), processed (delivered), lost (acknowledged, never delivered: must be 0), and
 * events delivered more than once, split by whether every delivery carried the same Idempotency-Key
 * (allowed: the receiver can tell) or not (a bug). Every process is stopped by its PID.
 *
 * DRILL_OUTAGE (default 120s) is how long the destination stays down; DRILL_RATE (default 40) the
 * events/s the senders aim at; DRILL_OUT a file for the Markdown table (default: a file in the OS temp
 * folder, printed at the end). The journal-full scenario mounts a tiny tmpfs (needs root); without root
 * it is skipped and says so.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { RATE, note } from "./drill/common.ts";
import { startDestination } from "./drill/destination.ts";
import { Skip, scenarios, writeRules } from "./drill/scenarios.ts";
import { table, type Result, type Setup } from "./drill/settle.ts";

async function main(): Promise<void> {
  const asked = process.argv.slice(2).filter((arg) => arg !== "--");
  const names = asked.length > 0 ? asked : Object.keys(scenarios);
  for (const name of names) {
    if (!(name in scenarios)) {
      process.stderr.write(`unknown scenario ${name}; try: ${Object.keys(scenarios).join(", ")}\n`);
      process.exitCode = 2;
      return;
    }
  }
  const root = mkdtempSync(path.join(os.tmpdir(), "switchboard-drill-"));
  const results: Result[] = [];
  const skipped: string[] = [];
  const failed: string[] = [];
  const begun = new Date();
  for (const name of names) {
    const dir = path.join(root, name);
    const logDir = path.join(dir, "logs");
    mkdirSync(logDir, { recursive: true });
    const destination = await startDestination(name === "worker-kill" ? 200 : 0);
    const setup: Setup = { scenario: name, dir, logDir, destination, rulesEnv: writeRules(dir, destination) };
    note(name, `starting (logs in ${logDir})`);
    try {
      const result = await scenarios[name]!.run(setup);
      results.push(result);
      note(
        name,
        `sent ${result.sent}, acknowledged ${result.acknowledged}, processed ${result.processed}, lost ${result.lost}`,
      );
    } catch (error) {
      if (error instanceof Skip) skipped.push(`${name}: ${error.message}`);
      else failed.push(`${name}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      note(name, `did not complete: ${String(error)}`);
    } finally {
      await destination.close();
    }
  }
  const report = [
    `Fault drill, ${begun.toISOString().slice(0, 16).replace("T", " ")} UTC, \`npx tsx bench/drill.ts ${asked.join(" ")}\`` +
      ` on ${os.cpus().length} × ${os.cpus()[0]?.model ?? "?"}, Node ${process.version}, ` +
      `load average at the start ${os.loadavg()[0]!.toFixed(1)}; load aimed at ${RATE} events/s.`,
    "",
    table(results),
    ...(skipped.length > 0 ? ["", ...skipped.map((line) => `Skipped: ${line}`)] : []),
    ...(failed.length > 0 ? ["", ...failed.map((line) => `Did not complete: ${line}`)] : []),
  ].join("\n");
  const out = process.env.DRILL_OUT ?? path.join(os.tmpdir(), `switchboard-drill-${Date.now()}.md`);
  writeFileSync(out, `${report}\n`);
  process.stdout.write(`${report}\n\n(written to ${out}; process logs in ${root})\n`);
  if (failed.length > 0 || results.some((r) => r.lost > 0 || r.duplicatedOtherKey > 0)) process.exitCode = 1;
  else rmSync(root, { recursive: true, force: true });
}

await main();
