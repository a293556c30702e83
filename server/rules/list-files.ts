import { readdir } from "node:fs/promises";
import path from "node:path";

/** Every file under `dir` (recursively), skipping names that start with `.` or `_`, sorted by path. */
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
