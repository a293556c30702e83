import { cp, mkdtemp, rm, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after } from "node:test";
import type { ContextOptions } from "../../server/events/build-context.ts";
import { loadRuleset, type LoadResult } from "../../server/rules/load-ruleset.ts";

export const REPO = path.resolve(import.meta.dirname, "../..");
export const TEMPLATES = path.join(REPO, "templates");
export const RULE_FIXTURES = path.join(REPO, "test/fixtures/rules");
export const TEST_CONTEXT: ContextOptions = { defaultCountry: "IN", publicUrl: "https://sb.example.com" };

/**
 * A scratch folder holding a `rules/` and a `templates/` folder (copies of the given sources, or of
 * the repository's templates), removed after the file's tests. Files can be written into it afterwards.
 */
export async function scratchRuleset(
  options: { rules?: Record<string, unknown>; ruleFiles?: string[]; templates?: Record<string, string> } = {},
): Promise<{
  dir: string;
  rulesDir: string;
  templatesDir: string;
  write(relative: string, content: unknown): Promise<void>;
  load(): Promise<LoadResult>;
}> {
  const dir = await mkdtemp(path.join(tmpdir(), "switchboard-rules-"));
  after(() => rm(dir, { recursive: true, force: true }));
  const rulesDir = path.join(dir, "rules");
  const templatesDir = path.join(dir, "templates");
  await mkdir(rulesDir);
  await cp(TEMPLATES, templatesDir, { recursive: true });
  const write = async (relative: string, content: unknown): Promise<void> => {
    const full = path.join(dir, relative);
    await mkdir(path.dirname(full), { recursive: true });
    await writeFile(full, typeof content === "string" ? content : JSON.stringify(content, null, 2));
  };
  for (const file of options.ruleFiles ?? []) await cp(file, path.join(rulesDir, path.basename(file)));
  for (const [name, content] of Object.entries(options.rules ?? {})) await write(`rules/${name}`, content);
  for (const [name, content] of Object.entries(options.templates ?? {}))
    await write(`templates/${name}`, content);
  return {
    dir,
    rulesDir,
    templatesDir,
    write,
    load: () => loadRuleset({ rulesDir, templatesDir, context: TEST_CONTEXT }),
  };
}
