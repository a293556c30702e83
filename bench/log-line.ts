/**
 * CPU per log line through Switchboard's logger (redaction, ISO time, the buffered destination), written
 * to /dev/null in bursts of 30 lines per event-loop turn as under load: `npx tsx bench/log-line.ts`. Run
 * it alternately against two checkouts (docs/BENCHMARKS.md); the process's CPU includes the libuv thread
 * that does the writes.
 */
import { openSync } from "node:fs";
import { bufferedDestination, createLogger } from "../server/logger.ts";

const LINES = 300_000;
const BURST = 30;
const log = createLogger({ level: "info", destination: bufferedDestination(openSync("/dev/null", "w")) });
const before = process.cpuUsage();
for (let turn = 0; turn < LINES / BURST; turn += 1) {
  for (let i = 0; i < BURST; i += 1) {
    log.info(
      {
        requestId: "req_01JXYZ0000000000000000",
        eventId: `evt_01JABCDEF${turn}_${i}`,
        type: "Hangup",
        route: "events",
        path: "/events/bench",
        duplicate: false,
        rules: ["crm.completed-calls"],
        actions: 1,
      },
      "event received",
    );
  }
  await new Promise((resolve) => setImmediate(resolve));
}
const used = process.cpuUsage(before);
process.stdout.write(`${((used.user + used.system) / LINES).toFixed(2)} µs of CPU per log line\n`);
