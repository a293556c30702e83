/**
 * Where Redis spends its time in the claim script (docs/BENCHMARKS.md): `npx tsx bench/claim-script.ts`.
 * Starts Switchboard (ROLE=web) on its own Redis, captures one real claim of a signed Hangup (its script
 * and arguments, through MONITOR), then calls that script again and again from a client, each call with
 * its own keys (32 calls per round trip), and reports Redis's CPU per call (INFO cpu) and the script's own
 * time (INFO commandstats) for the script as it is and for variants of it. Environment: CLAIMS (calls per
 * variant, 15000), REPEATS (passes over the variants, each in turn, 5).
 */
import { createHash } from "node:crypto";
import { Redis } from "ioredis";
import { redisCpuSeconds } from "./lib/cpu.ts";
import { median, runLoad } from "./lib/load.ts";
import { startBenchRedis, startSwitchboard } from "./lib/processes.ts";

const claims = Number(process.env.CLAIMS ?? 15_000);
const repeats = Number(process.env.REPEATS ?? 5);

/** MONITOR prints arguments escaped (\n, \", \xNN for bytes); this restores them */
function unescapeMonitor(text: string): string {
  const bytes: number[] = [];
  const escapes: Record<string, string> = {
    n: "\n",
    r: "\r",
    t: "\t",
    a: "\x07",
    b: "\b",
    '"': '"',
    "\\": "\\",
  };
  for (let i = 0; i < text.length; i += 1) {
    if (text[i] === "\\" && text[i + 1] === "x") {
      bytes.push(Number.parseInt(text.slice(i + 2, i + 4), 16));
      i += 3;
    } else if (text[i] === "\\" && escapes[text[i + 1]!] !== undefined) {
      bytes.push(escapes[text[i + 1]!]!.charCodeAt(0));
      i += 1;
    } else {
      bytes.push(...Buffer.from(text[i]!, "utf8"));
    }
  }
  return Buffer.from(bytes).toString("utf8");
}

const fields = (i: number): Record<string, string> => ({
  Event: "Hangup",
  CallUUID: `bench-${i}`,
  From: "919876543210",
  To: "07971442086",
  CallStatus: "completed",
  Duration: "95",
  BillDuration: "120",
  Direction: "inbound",
  HangupCause: "NORMAL_CLEARING",
});

async function captureClaim(): Promise<{ source: string; args: string[] }> {
  const redis = await startBenchRedis();
  try {
    const server = await startSwitchboard("Switchboard (ROLE=web)", redis.url, { ROLE: "web" });
    try {
      const base = new Redis(redis.url);
      const seen: string[][] = [];
      try {
        const monitor = await base.monitor();
        monitor.on("monitor", (_time: string, args: string[]) => seen.push(args));
        try {
          await runLoad(server.url, {
            path: "/events/bench",
            durationSeconds: 1,
            fields,
            rate: 5,
            connections: 1,
          });
        } finally {
          monitor.disconnect();
        }
      } finally {
        base.disconnect();
      }
      // a script's first call on a connection is sent whole (EVAL), the later ones by its SHA-1 (EVALSHA)
      const first = seen.find((args) => args[0]?.toLowerCase() === "eval");
      const later = seen.find((args) => args[0]?.toLowerCase() === "evalsha");
      if (first === undefined || later === undefined) throw new Error("no claim was seen");
      const [source, ...args] = first.slice(1).map(unescapeMonitor) as [string, ...string[]];
      if (createHash("sha1").update(source).digest("hex") !== later[1])
        throw new Error(
          "the script sent whole is not the one called by its SHA-1 (or MONITOR's text was misread)",
        );
      if (args[Number(args[0]) + 8] === "")
        throw new Error("the claim seen carries no event job (decided in the request path): use ROLE=web");
      return { source, args };
    } finally {
      await server.stop();
    }
  } finally {
    await redis.stop();
  }
}

const { source, args } = await captureClaim();
const keyCount = Number(args[0]);
const variants: Record<string, string> = {
  "the claim as it is": source,
  "its arguments only (return 1)": "return 1",
  "without bull's addJob": source.replace(/\n {2}bullAddEvent\(\{KEYS\[7\].*\n/, "\n"),
  "bull's addJob replaced by HSET + LPUSH": source.replace(
    /\n {2}bullAddEvent\(\{KEYS\[7\].*\n/,
    `
  local target = KEYS[7]
  if redis.call("EXISTS", KEYS[9]) == 1 then target = KEYS[8] end
  redis.call("HSET", string.sub(KEYS[10], 1, -3) .. eventId, "name", "__default__", "data", eventJson,
    "opts", eventOpts, "timestamp", now, "delay", "0", "priority", "0")
  redis.call("LPUSH", target, eventId)
`,
  ),
  "without the calls' index": source.replace(/\nif KEYS\[5\] ~= "" then\n[\s\S]*?\nend\n/, "\n"),
  "without the calls' index's expiry": source.replace(
    'if not ids then redis.call("PEXPIREAT", KEYS[5], callIndexExpiry) end',
    "",
  ),
  "10 SETs of new keys": 'for i = 1, 10 do redis.call("SET", KEYS[1] .. i, "x") end return 1',
  "10 EXISTS": 'for i = 1, 10 do redis.call("EXISTS", KEYS[1]) end return 1',
};
for (const [name, text] of Object.entries(variants)) {
  if (text === source && name !== "the claim as it is")
    throw new Error(`the variant "${name}" changed nothing`);
}

const redis = await startBenchRedis();
const client = new Redis(redis.url);
let salt = 0;
/** one pass: `claims` calls of the variant, each with its own de-dup, nonce and trace keys, event id and call */
async function pass(text: string): Promise<{ cpu: number; script: number }> {
  const sha = (await client.script("LOAD", text)) as string;
  await client.flushall();
  await client.config("RESETSTAT");
  const cpu0 = await redisCpuSeconds(client);
  let sent = 0;
  while (sent < claims) {
    const pipeline = client.pipeline();
    for (let j = 0; j < 32 && sent < claims; j += 1, sent += 1) {
      salt += 1;
      const call = [...args];
      for (const k of [1, 2, 4]) call[k] = `${args[k]}${salt}`; // de-dup, nonce, trace keys
      call[1 + keyCount] = `${args[1 + keyCount]}${salt}`; // the event id
      call[1 + keyCount + 16] = `f${salt}`; // the call's field in the calls' index
      pipeline.evalsha(sha, call[0]!, ...call.slice(1));
    }
    for (const [error] of (await pipeline.exec()) ?? []) if (error) throw error;
  }
  const cpu = (((await redisCpuSeconds(client)) - cpu0) * 1e6) / claims;
  const stats = /cmdstat_evalsha:calls=(\d+),usec=(\d+)/.exec(await client.info("commandstats"));
  return { cpu, script: Number(stats?.[2]) / Number(stats?.[1]) };
}

try {
  const results = new Map<string, Array<{ cpu: number; script: number }>>();
  for (let repeat = 0; repeat < repeats; repeat += 1) {
    for (const [name, text] of Object.entries(variants)) {
      const result = await pass(text);
      results.set(name, [...(results.get(name) ?? []), result]);
      process.stderr.write(
        `pass ${repeat + 1} ${name}: ${result.cpu.toFixed(1)} µs CPU, script ${result.script.toFixed(1)} µs\n`,
      );
    }
  }
  console.log(
    `| claim script variant | Redis CPU per call (µs) | the script's own time (µs) |\n|---|---|---|`,
  );
  for (const [name, rows] of results) {
    console.log(
      `| ${name} | ${median(rows.map((r) => r.cpu)).toFixed(1)} | ${median(rows.map((r) => r.script)).toFixed(1)} |`,
    );
  }
} finally {
  client.disconnect();
  await redis.stop();
}
