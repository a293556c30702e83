/**
 * CPU used so far, for CPU per request at a fixed offered rate: a process's (all its threads, from
 * /proc/<pid>/stat) and a Redis server's (INFO cpu, main thread and background threads together).
 */
import { readFileSync } from "node:fs";
import type { Redis } from "ioredis";

/** seconds of CPU (user + system) the process has used; USER_HZ is 100 on Linux */
export function processCpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** seconds of CPU (user + system) the Redis server has used */
export async function redisCpuSeconds(client: Redis): Promise<number> {
  const info = await client.info("cpu");
  return Number(/used_cpu_sys:([\d.]+)/.exec(info)?.[1]) + Number(/used_cpu_user:([\d.]+)/.exec(info)?.[1]);
}
