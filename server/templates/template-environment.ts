/**
 * The nunjucks environments templates render in, compiled once per load from sources read at load time
 * (so a reload is atomic: a half-edited file on disk never reaches a running ruleset). Variables are
 * `<<expr>>`; undefined values throw (use `| default`). Pure once built.
 */
import nunjucks from "nunjucks";
import { toE164 } from "../events/phone-number.ts";
import { readPaths, rememberRenders } from "./remember-renders.ts";
import { prepareSource, type TemplateKind } from "./template-source.ts";

/** How templates are written: `<<expr>>` variables, `{% %}` blocks, `{# #}` comments. */
const SYNTAX = {
  trimBlocks: true,
  lstripBlocks: true,
  tags: { variableStart: "<<", variableEnd: ">>", commentStart: "{#", commentEnd: "#}" },
};

/** nunjucks keeps a template's (prepared) source as `tmplStr` */
const sourceOf = (template: nunjucks.Template): string =>
  (template as unknown as { tmplStr: string }).tmplStr;

export interface CompiledTemplate {
  name: string;
  kind: TemplateKind;
  render(context: object): string;
}

export interface TemplateProblem {
  /** template file name under TEMPLATES_DIR, or the rule file holding an inline template */
  name: string;
  line: number;
  column: number;
  message: string;
}

/** Serves preloaded sources by name, prepared for the kind the name is used as. */
function memoryLoader(sources: ReadonlyMap<string, string>, kind: TemplateKind): nunjucks.ILoader {
  return {
    getSource(name: string): nunjucks.LoaderSource {
      const source = sources.get(name);
      if (source === undefined) throw new Error(`template not found: ${name}`);
      return { src: prepareSource(source, kind), path: name, noCache: false };
    },
  };
}

const FILTERS: Record<string, (...args: never[]) => unknown> = {
  sb_url: (value: unknown) => encodeURIComponent(String(value)),
  sb_json: (value: unknown) => JSON.stringify(String(value)).slice(1, -1),
  sb_header: (value: unknown) => String(value).replace(/[\r\n]+/g, " "),
};

export interface TemplateEnvironment {
  /** a template file under TEMPLATES_DIR, used as `kind` */
  file(name: string, kind: TemplateKind): CompiledTemplate;
  /** an inline template (a rule's URL, header, inline body or XML) */
  inline(source: string, kind: TemplateKind, name: string): CompiledTemplate;
  has(name: string): boolean;
}

/** A nunjucks error message as `{line, column, message}` (nunjucks writes "(name) [Line 3, Column 7]\n  msg"). */
export function describeTemplateError(name: string, error: unknown): TemplateProblem {
  const text = error instanceof Error ? error.message : String(error);
  const at = /\[Line (\d+), Column (\d+)\]/.exec(text);
  const message = text
    .replace(/^\([^)]*\)\s*/, "")
    .replace(/\[Line \d+, Column \d+\]\s*/, "")
    .replace(/^Error: /, "")
    .trim();
  return { name, line: at ? Number(at[1]) : 0, column: at ? Number(at[2]) : 0, message };
}

export function createTemplateEnvironment(
  sources: ReadonlyMap<string, string>,
  options: { defaultCountry: string },
): TemplateEnvironment {
  const environments = new Map<TemplateKind, nunjucks.Environment>();
  const environment = (kind: TemplateKind): nunjucks.Environment => {
    let env = environments.get(kind);
    if (env === undefined) {
      env = new nunjucks.Environment(memoryLoader(sources, kind), {
        autoescape: kind === "xml",
        throwOnUndefined: true,
        ...SYNTAX,
      });
      for (const [name, filter] of Object.entries(FILTERS)) env.addFilter(name, filter);
      env.addFilter("e164", (value: unknown, country?: string) =>
        toE164(value, country ?? options.defaultCountry),
      );
      environments.set(kind, env);
    }
    return env;
  };
  const wrap = (template: nunjucks.Template, name: string, kind: TemplateKind): CompiledTemplate => {
    const render = (context: object): string => template.render(context);
    // XML replies are rendered while a caller waits; most read nothing from the call, so reuse them
    const paths = kind === "xml" ? readPaths(sourceOf(template), SYNTAX) : undefined;
    return { name, kind, render: paths === undefined ? render : rememberRenders(render, paths) };
  };
  const files = new Map<string, CompiledTemplate>();
  return {
    has: (name) => sources.has(name),
    file(name, kind) {
      const key = `${kind}:${name}`;
      let compiled = files.get(key);
      if (compiled === undefined) {
        const env = environment(kind);
        const template = env.getTemplate(name, true);
        compiled = wrap(template, name, kind);
        files.set(key, compiled);
      }
      return compiled;
    },
    inline(source, kind, name) {
      return wrap(
        new nunjucks.Template(prepareSource(source, kind), environment(kind), name, true),
        name,
        kind,
      );
    },
  };
}
