import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import type { RulesetVersion } from "./rule-registry.ts";

const run = promisify(execFile);

/** Every file under `dir`, skipping names that start with `.` or `_`, sorted by path. */
export async function listFiles(dir: string, extension?: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (current: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(current, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
      throw error;
    }
    for (const entry of entries) {
      if (entry.name.startsWith(".") || entry.name.startsWith("_")) continue;
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile() && (extension === undefined || entry.name.endsWith(extension)))
        found.push(full);
    }
  };
  await walk(dir);
  return found.sort();
}

/** `{commit, hash, loadedAt}`: git HEAD of the rules directory (or null) and a sha256 of every rule and template file. */
export async function loadRulesetVersion(rulesDir: string, templatesDir: string): Promise<RulesetVersion> {
  const hash = createHash("sha256");
  for (const [root, files] of [
    [rulesDir, await listFiles(rulesDir, ".json")],
    [templatesDir, await listFiles(templatesDir)],
  ] as const) {
    for (const file of files) {
      hash
        .update(path.relative(root, file))
        .update("\0")
        .update(await readFile(file))
        .update("\0");
    }
  }
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
