/**
 * CPU used so far, for CPU per request at a fixed offered rate: a process's (all its threads, from
 * /proc/<pid>/stat) and a Redis server's (INFO cpu, main thread and background threads together).
 */
import { readFileSync } from "node:fs";
import type { Redis } from "ioredis";

/** clock ticks per second in /proc (USER_HZ): 100 on Linux, whatever the kernel's own tick rate */
const USER_HZ = 100;

/** seconds of CPU (user + system) the process has used */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // the command name (field 2) is in parentheses and may hold spaces: count fields after its last ")"
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / USER_HZ;
}

/** seconds of CPU (user + system) the Redis server has used */
export async function redisCpuSeconds(client: Redis): Promise<number> {
  const info = await client.info("cpu");
  const system = /used_cpu_sys:([\d.]+)/.exec(info)?.[1];
  const user = /used_cpu_user:([\d.]+)/.exec(info)?.[1];
  if (system === undefined || user === undefined) throw new Error(`no CPU figures in INFO cpu: ${info}`);
  return Number(system) + Number(user);
}
