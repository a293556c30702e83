/**
 * How a template's source is prepared for its output kind (SPEC §5.1). Variables are written `<<expr>>`;
 * `{% %}` blocks stay nunjucks. Escaping is attached to every variable here, so no payload value can break
 * out of where it is placed:
 *
 * - url:    every value percent-encoded (`{{name}}` and `{name}` mean `<<name | default("")>>`, as callback
 *           profiles write them)
 * - json:   every value escaped as the inside of a JSON string; `| dump` writes a whole value as JSON
 * - header: CR and LF removed, so a value cannot add a header
 * - xml:    nunjucks autoescape (`&`, `<`, `>`, `"`, `'`)
 * - text:   as is
 *
 * `| safe` at the end of a variable opts out of the escaping. Pure.
 */
export type TemplateKind = "url" | "json" | "header" | "xml" | "text";

export const ESCAPE_FILTERS: Readonly<Record<TemplateKind, string | undefined>> = {
  url: "sb_url",
  json: "sb_json",
  header: "sb_header",
  xml: undefined,
  text: undefined,
};

const VARIABLE = /<<([\s\S]*?)>>/g;
const ENDS_WITH_SAFE = /\|\s*safe\s*$/;
const ENDS_WITH_DUMP = /\|\s*dump\s*(\([^)]*\))?\s*$/;
/** `{{caller}}` or `{caller}` (a plain name, optionally dotted), never `{%` or `{#` */
const CURLY_NAME = /\{\{\s*([A-Za-z_][\w.]*)\s*\}\}|\{([A-Za-z_][\w.]*)\}/g;

export function prepareSource(source: string, kind: TemplateKind): string {
  let text = source;
  if (kind === "url") {
    // callback-profile style: a value the event does not have is empty, not an error
    text = text.replace(
      CURLY_NAME,
      (_, a: string | undefined, b: string | undefined) => `<<${a ?? b} | default("")>>`,
    );
  }
  const filter = ESCAPE_FILTERS[kind];
  if (filter === undefined) return text;
  return text.replace(VARIABLE, (whole, expr: string) => {
    if (ENDS_WITH_SAFE.test(expr)) return whole;
    if (kind === "json" && ENDS_WITH_DUMP.test(expr)) return whole;
    return `<<(${expr.trim()}) | ${filter}>>`;
  });
}
