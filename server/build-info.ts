/**
 * The commit `switchboard_build_info` reports: BUILD_COMMIT when set (images built without `.git` pass it
 * at build time), else `git rev-parse HEAD` in the package's directory, asked once at start, else
 * "unknown". The git call is bounded (2 s) and its failure is not an error.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { VERSION } from "./version.ts";
import type { BuildInfo } from "./metrics.ts";

const PACKAGE_DIR = fileURLToPath(new URL("..", import.meta.url));

export function gitCommit(dir: string = PACKAGE_DIR): string | undefined {
  try {
    const out = execFileSync("git", ["rev-parse", "HEAD"], {
      cwd: dir,
      timeout: 2000,
      stdio: ["ignore", "pipe", "ignore"],
      encoding: "utf8",
    }).trim();
    return /^[0-9a-f]{7,64}$/.test(out) ? out : undefined;
  } catch {
    return undefined;
  }
}

export function buildInfo(configured: string | undefined): BuildInfo {
  return { version: VERSION, commit: configured ?? gitCommit() ?? "unknown" };
}
