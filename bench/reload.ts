/**
 * Reload-under-load benchmark (issue 4b): Switchboard (ROLE=all) with 1,000 rule files takes 1,000 signed
 * /events requests per second while the fleet-wide reload runs several times. Reports every reload's
 * duration (as the instance measured it, and the admin call's wall time) and the requests that failed:
 * the goal is none.
 */
import { cp, mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { runLoad } from "./lib/load.ts";
import { ROOT, startBenchRedis, startSwitchboard } from "./lib/processes.ts";

const ADMIN = "bench-admin-token-0123456789";

/** 1,000 files of one rule each, on types the benchmark's Hangup events never have, each with a test. */
async function writeRules(dir: string, files: number): Promise<void> {
  for (let i = 0; i < files; i += 1) {
    const type = `Type${i % 100}`;
    const content = {
      custom_events: [type],
      rules: [
        {
          id: `rule-${i}`,
          on: type,
          when: {
            and: [{ ">": [{ var: "Duration" }, i % 60] }, { starts_with: [{ var: "caller_e164" }, "+91"] }],
          },
          actions: [{ type: "forward", url: `https://crm.example.com/r${i}?caller=<<caller_e164>>` }],
          tests: [{ event: { Event: type, From: "919876543210", Duration: "95" }, expect: { match: true } }],
        },
      ],
    };
    await mkdir(path.join(dir, `team-${i % 10}`), { recursive: true });
    await writeFile(path.join(dir, `team-${i % 10}`, `rule-${i}.json`), JSON.stringify(content, null, 2));
  }
}

export async function reloadBenchmark(seconds: number): Promise<string> {
  const duration = Math.max(seconds, 12);
  const dir = await mkdtemp(path.join(os.tmpdir(), "switchboard-bench-rules-"));
  const rulesDir = path.join(dir, "rules");
  const templatesDir = path.join(dir, "templates");
  await writeRules(rulesDir, 1000);
  await cp(path.join(ROOT, "templates"), templatesDir, { recursive: true });
  const redis = await startBenchRedis();
  const server = await startSwitchboard("Switchboard", redis.url, {
    RULES_DIR: rulesDir,
    TEMPLATES_DIR: templatesDir,
    LOG_LEVEL: "warn",
  });
  const reloads: Array<{ status: number; wallMs: number; instanceMs: number | undefined }> = [];
  try {
    const options = {
      path: "/events/bench",
      durationSeconds: duration,
      rate: 1000,
      fields: (i: number) => ({
        Event: "Hangup",
        CallUUID: `bench-${i}`,
        From: "919876543210",
        Duration: "95",
      }),
    };
    await runLoad(server.url, { ...options, durationSeconds: 3 }); // warm-up, not reported
    const baseline = await runLoad(server.url, options);
    process.stderr.write(`without reloads: p99 ${baseline.p99} ms, non-2xx ${baseline.non2xx}\n`);
    const load = runLoad(server.url, options);
    const every = (duration * 1000) / 5;
    for (let n = 1; n <= 4; n += 1) {
      await new Promise((resolve) => setTimeout(resolve, every));
      const started = performance.now();
      const response = await fetch(`${server.url}/admin/reload`, {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN}` },
      });
      const body = (await response.json()) as { instances?: Array<{ durationMs?: number }> };
      reloads.push({
        status: response.status,
        wallMs: performance.now() - started,
        instanceMs: body.instances?.[0]?.durationMs,
      });
      process.stderr.write(
        `reload ${n}: ${response.status} in ${Math.round(performance.now() - started)} ms\n`,
      );
    }
    const result = await load;
    return [
      `1,000 rule files (1,000 rules, 1,000 rule tests), ${duration} s of signed /events requests at a fixed 1,000 req/s, first without reloads, then with 4 fleet-wide reloads during the load:`,
      "",
      "| run | requests | achieved req/s | non-2xx | errors | p50 ms | p99 ms |",
      "|---|---|---|---|---|---|---|",
      ...(
        [
          ["without reloads", baseline],
          ["with 4 reloads", result],
        ] as const
      ).map(
        ([name, r]) =>
          `| ${name} | ${r.total} | ${Math.round(r.requestsPerSecond)} | ${r.non2xx} | ${r.errors} | ${r.p50} | ${r.p99} |`,
      ),
      "",
      "| reload | status | load + validate + tests + swap (instance) ms | admin call wall ms |",
      "|---|---|---|---|",
      ...reloads.map(
        (r, i) => `| ${i + 1} | ${r.status} | ${r.instanceMs ?? "?"} | ${Math.round(r.wallMs)} |`,
      ),
    ].join("\n");
  } finally {
    await server.stop();
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
