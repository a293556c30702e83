import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { promisify } from "node:util";

const run = promisify(execFile);

/** A loaded ruleset's identity (SPEC §4.5). */
export interface RulesetVersion {
  /** git HEAD of the rules directory, or null outside a git work tree */
  commit: string | null;
  /** sha256 over every rule and template file (name and content) */
  hash: string;
  loadedAt: string;
}

/** The version of a set of sources (`[name, text]`, in a stable order) read from `rulesDir`. */
export async function rulesetVersion(
  sources: Iterable<readonly [string, string]>,
  rulesDir: string,
): Promise<RulesetVersion> {
  const hash = createHash("sha256");
  for (const [name, text] of sources) hash.update(name).update("\0").update(text).update("\0");
  return { commit: await gitHead(rulesDir), hash: hash.digest("hex"), loadedAt: new Date().toISOString() };
}

async function gitHead(dir: string): Promise<string | null> {
  try {
    const { stdout } = await run("git", ["-C", dir, "rev-parse", "HEAD"], { timeout: 2000 });
    return stdout.trim() || null;
  } catch {
    return null;
  }
}
