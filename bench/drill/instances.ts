/** Switchboard instances (ROLE=web, ROLE=worker) as child processes, killed or stopped by their PID. */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import path from "node:path";
import { findFreePort } from "../../server/redis/find-free-port.ts";
import { ROOT } from "../lib/processes.ts";
import { ADMIN, PUBLIC_URL, TOKEN, until } from "./common.ts";

export const children = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});

export interface Instance {
  name: string;
  role: "web" | "worker";
  port: number;
  url: string;
  pid: number;
  /** kill -9 */
  kill(): Promise<void>;
  /** SIGTERM, then SIGKILL after 20 s */
  stop(): Promise<void>;
  /** lines of its log (JSON) that contain `text` */
  logCount(text: string): number;
}

/** Starts `node --import tsx server/main.ts` with ROLE=`role`; resolves once it is ready (web: /ready 200). */
export async function startInstance(
  name: string,
  role: "web" | "worker",
  env: Record<string, string>,
  logDir: string,
  port?: number,
): Promise<Instance> {
  const chosen = port ?? (await findFreePort());
  const child = spawn(process.execPath, ["--import", "tsx", "server/main.ts"], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/root",
      ROLE: role,
      PORT: String(chosen),
      HOST: "127.0.0.1",
      PUBLIC_URL,
      VOBIZ_AUTH_TOKEN: TOKEN,
      ADMIN_TOKEN: ADMIN,
      LOG_LEVEL: "info",
      JOB_LOCK_TIMEOUT: "5s",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  const file = createWriteStream(path.join(logDir, `${name}-${child.pid}.log`));
  let text = "";
  const keep = (chunk: Buffer): void => {
    file.write(chunk);
    text += chunk.toString();
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const exited = new Promise<void>((resolve) =>
    child.once("exit", () => {
      children.delete(child);
      file.end();
      resolve();
    }),
  );
  const url = `http://127.0.0.1:${chosen}`;
  const gone = (): boolean => child.exitCode !== null || child.signalCode !== null;
  await until(
    `${name} ready`,
    async () => {
      if (gone()) throw new Error(`${name} exited: ${text.slice(-2000)}`);
      if (role === "worker") return text.includes('"workers started"') ? true : undefined;
      return (await fetch(`${url}/ready`)).status === 200 ? true : undefined;
    },
    60_000,
  ).catch((error: unknown) => {
    if (gone()) throw new Error(`${name} exited before it was ready; its log:\n${text.slice(-2000)}`);
    throw error;
  });
  return {
    name,
    role,
    port: chosen,
    url,
    pid: child.pid ?? -1,
    async kill() {
      if (!gone()) child.kill("SIGKILL");
      await exited;
    },
    async stop() {
      if (gone()) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
      await exited;
      clearTimeout(timer);
    },
    logCount(needle) {
      return text.split("\n").filter((line) => line.includes(needle)).length;
    },
  };
}
