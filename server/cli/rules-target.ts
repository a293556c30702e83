/**
 * Which rules and templates `check` and `test` read, and with what settings: the same configuration a
 * server started here would use (loadConfig over the same environment: PUBLIC_URL, DEFAULT_COUNTRY,
 * SECRET_*), so a rule test that renders `meta.public_url` gives what a reload there would give.
 * `[dir]` is the rules folder (default RULES_DIR or ./rules); templates come from `--templates`, else
 * TEMPLATES_DIR, else the `templates` folder next to the rules folder.
 */
import { statSync } from "node:fs";
import path from "node:path";
import { loadConfig } from "../config/load-config.ts";
import type { LoadOptions } from "../rules/load-ruleset.ts";
import { stringOption, UsageError, type CliIo, type ParsedArgs } from "./cli-command.ts";

export interface RulesTarget {
  rulesDir: string;
  templatesDir: string;
  load: LoadOptions;
}

const isDirectory = (dir: string): boolean => {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
};

export function rulesTarget(args: ParsedArgs, io: CliIo): RulesTarget {
  const config = loadConfig(io.env, io.cwd);
  const [dir] = args.positionals;
  const rulesDir = dir === undefined ? config.rulesDir : path.resolve(io.cwd, dir);
  const templatesOption = stringOption(args, "templates");
  const templatesDir =
    templatesOption !== undefined
      ? path.resolve(io.cwd, templatesOption)
      : io.env.TEMPLATES_DIR
        ? config.templatesDir
        : path.join(path.dirname(rulesDir), "templates");
  if (!isDirectory(rulesDir)) {
    throw new UsageError(
      `no rules folder at ${rulesDir}; give the folder of rule files (switchboard check path/to/rules) or set RULES_DIR`,
    );
  }
  return {
    rulesDir,
    templatesDir,
    load: {
      rulesDir,
      templatesDir,
      context: {
        defaultCountry: config.defaultCountry,
        publicUrl: config.publicUrl,
        accountId: config.vobiz.authId,
      },
      secretNames: new Set(Object.keys(config.secrets)),
    },
  };
}

export const RULES_TARGET_OPTIONS = {
  templates: { type: "string" },
} as const;

export const RULES_TARGET_HELP = {
  templates: "the templates folder (default TEMPLATES_DIR, else templates/ next to the rules folder)",
};
