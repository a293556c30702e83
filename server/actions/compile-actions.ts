/**
 * Turns a rule's actions into render functions, compiling every template once per load (SPEC §4.2).
 * Forwards are merged with their profile first (keys on the action win). Template problems are reported
 * with the action's JSON pointer. The one `switch` over action kinds lives here. Pure.
 */
import { DEFAULT_RETRY } from "../queue/action-job-options.ts";
import { parseDuration } from "../config/duration.ts";
import type { Action, Destination, ForwardAction, Retry } from "../rules/rule-file-types.ts";
import {
  describeTemplateError,
  type CompiledTemplate,
  type TemplateEnvironment,
} from "../templates/template-environment.ts";
import type { TemplateKind } from "../templates/template-source.ts";
import { checkVobizParams, type ParamProblem } from "./check-vobiz-params.ts";
import { templateContext, type RenderInput } from "./render-context.ts";
import { VOBIZ_CATALOGUE, type VobizActionName } from "./vobiz-catalogue.ts";

export interface RenderedForward {
  type: "forward";
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
  content_type: string | undefined;
  fallback_url: string | undefined;
  timeoutMs: number;
  retry: { attempts: number; backoff: "fixed" | "exponential"; delayMs: number; maxDelayMs: number };
  sign: boolean;
  success: string;
  /** a `secrets.NAME` reference, resolved by the sender */
  signing_secret: string | undefined;
}

export interface RenderedRespond {
  type: "respond";
  xml: string;
  template: string | undefined;
}

export interface RenderedVobiz {
  type: "vobiz";
  vobiz: VobizActionName;
  /** rendered, not yet checked against the action's schema (finishVobizParams does, before sending) */
  params: Record<string, unknown>;
}

export type RenderedAction = RenderedForward | RenderedRespond | RenderedVobiz;

export interface CompiledAction {
  index: number;
  type: Action["type"];
  /** the action as written, merged with its profile */
  spec: Action;
  render(input: RenderInput): RenderedAction;
}

export interface ActionProblem {
  pointer: string;
  code: "TEMPLATE_SYNTAX" | "TEMPLATE_MISSING" | ParamProblem["code"];
  message: string;
}

const FORM = "application/x-www-form-urlencoded";

class Compiler {
  readonly problems: ActionProblem[] = [];
  constructor(
    private readonly templates: TemplateEnvironment,
    private readonly name: string,
  ) {}

  inline(source: string, kind: TemplateKind, pointer: string): CompiledTemplate | undefined {
    try {
      return this.templates.inline(source, kind, `${this.name}#${pointer}`);
    } catch (error) {
      const found = describeTemplateError(source, error);
      this.problems.push({
        pointer,
        code: "TEMPLATE_SYNTAX",
        message: `template does not compile: ${found.message}`,
      });
      return undefined;
    }
  }

  file(name: string, kind: TemplateKind, pointer: string): CompiledTemplate | undefined {
    if (!this.templates.has(name)) {
      this.problems.push({
        pointer,
        code: "TEMPLATE_MISSING",
        message: `no template "${name}" under TEMPLATES_DIR; check the name (paths are relative to the templates folder)`,
      });
      return undefined;
    }
    try {
      return this.templates.file(name, kind);
    } catch (error) {
      const found = describeTemplateError(name, error);
      const where = found.line > 0 ? ` (${name}:${found.line}:${found.column})` : ` (${name})`;
      this.problems.push({
        pointer,
        code: "TEMPLATE_SYNTAX",
        message: `template does not compile${where}: ${found.message}`,
      });
      return undefined;
    }
  }
}

const render = (template: CompiledTemplate | undefined, data: object): string => template?.render(data) ?? "";

function flattenPayload(payload: Record<string, unknown>): string {
  const form = new URLSearchParams();
  for (const [key, value] of Object.entries(payload)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      form.append(key, typeof item === "string" ? item : JSON.stringify(item));
    }
  }
  return form.toString();
}

function compileForward(
  action: ForwardAction,
  profile: Destination | undefined,
  c: Compiler,
  at: string,
): CompiledAction["render"] {
  const spec = { ...profile, ...action };
  const url = c.inline(spec.url ?? "", "url", `${at}/${action.url !== undefined ? "url" : "profile"}`);
  const fallback =
    spec.fallback_url === undefined ? undefined : c.inline(spec.fallback_url, "url", `${at}/fallback_url`);
  const headers = Object.entries(spec.headers ?? {}).map(
    ([name, value]) => [name, c.inline(value, "header", `${at}/headers/${name}`)] as const,
  );
  const body = spec.body ?? "form";
  let bodyTemplate: CompiledTemplate | undefined;
  let contentType: string | undefined;
  if (typeof body === "object") {
    contentType = body.content_type ?? ("template" in body ? guessContentType(body.template) : "text/plain");
    const kind: TemplateKind = contentType.includes("json")
      ? "json"
      : contentType.includes("xml")
        ? "xml"
        : "text";
    bodyTemplate =
      "template" in body
        ? c.file(body.template, kind, `${at}/body/template`)
        : c.inline(body.inline, kind, `${at}/body/inline`);
  }
  const retry: Required<Retry> = { ...DEFAULT_RETRY, ...spec.retry };
  const method = spec.method ?? "POST";
  const timeoutMs = parseDuration(spec.timeout ?? "5s") ?? 5000;
  const retryMs = {
    attempts: retry.attempts,
    backoff: retry.backoff,
    delayMs: parseDuration(retry.delay) ?? 2000,
    maxDelayMs: parseDuration(retry.max_delay) ?? 600_000,
  };
  return (input) => {
    const data = templateContext(input);
    let target = render(url, data);
    let text: string | undefined;
    let type: string | undefined;
    if (bodyTemplate !== undefined) {
      text = render(bodyTemplate, data);
      type = contentType;
    } else if (body === "json") {
      text = JSON.stringify(input.payload);
      type = "application/json";
    } else {
      text = input.raw?.contentType.startsWith(FORM) ? input.raw.text : flattenPayload(input.payload);
      type = FORM;
    }
    if (method === "GET") {
      if (body === "form" && text !== "") target += (target.includes("?") ? "&" : "?") + text;
      text = undefined;
      type = undefined;
    }
    return {
      type: "forward",
      url: target,
      method,
      headers: Object.fromEntries(headers.map(([name, template]) => [name, render(template, data)])),
      body: text,
      content_type: type,
      fallback_url: fallback === undefined ? undefined : render(fallback, data),
      timeoutMs,
      retry: { ...retryMs },
      sign: spec.sign ?? true,
      success: spec.success ?? "2xx",
      signing_secret: spec.signing_secret,
    };
  };
}

function guessContentType(name: string): string {
  if (name.endsWith(".json") || name.endsWith(".json.njk")) return "application/json";
  if (name.endsWith(".xml") || name.endsWith(".xml.njk")) return "application/xml";
  return "text/plain";
}

/** a param written as one `<<x | dump>>`: x's JSON value, not a string */
const WHOLE_DUMP = /^\s*<<[^<>]*\|\s*dump\s*(\([^)]*\))?\s*>>\s*$/;

/**
 * A vobiz action's params, rendered as JSON (SPEC §5.1): every string is a template and stays one JSON
 * string whatever the event holds (the body is built with JSON.stringify, never by pasting text); a
 * string that is only `<<x | dump>>` becomes x's JSON value. Other values are kept as written.
 */
function compileParams(value: unknown, c: Compiler, at: string): (data: object) => unknown {
  if (typeof value === "string") {
    const template = c.inline(value, "text", at);
    if (WHOLE_DUMP.test(value))
      return (data) => {
        const text = render(template, data);
        try {
          return JSON.parse(text) as unknown;
        } catch {
          throw new Error(`${at}: <<… | dump>> did not render JSON: ${text.slice(0, 100)}`);
        }
      };
    return (data) => render(template, data);
  }
  if (Array.isArray(value)) {
    const items = value.map((item, i) => compileParams(item, c, `${at}/${i}`));
    return (data) => items.map((item) => item(data));
  }
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).map(
      ([key, item]) => [key, compileParams(item, c, `${at}/${key}`)] as const,
    );
    return (data) => Object.fromEntries(entries.map(([key, item]) => [key, item(data)]));
  }
  return () => value;
}

export function compileActions(
  actions: readonly Action[],
  options: {
    pointer: string;
    file: string;
    templates: TemplateEnvironment;
    profile: (name: string) => Destination | undefined;
  },
): { actions: CompiledAction[]; problems: ActionProblem[] } {
  const c = new Compiler(options.templates, options.file);
  const compiled = actions.map((action, index): CompiledAction => {
    const at = `${options.pointer}/${index}`;
    switch (action.type) {
      case "forward": {
        const profile = action.profile === undefined ? undefined : options.profile(action.profile);
        return {
          index,
          type: action.type,
          spec: { ...profile, ...action },
          render: compileForward(action, profile, c, at),
        };
      }
      case "respond": {
        const template =
          action.template !== undefined
            ? c.file(action.template, "xml", `${at}/template`)
            : c.inline(action.xml ?? "", "xml", `${at}/xml`);
        return {
          index,
          type: action.type,
          spec: action,
          render: (input) => ({
            type: "respond",
            xml: render(template, templateContext(input, action.vars)),
            template: action.template,
          }),
        };
      }
      case "vobiz": {
        const name = action.vobiz;
        for (const found of checkVobizParams(name, action.params ?? {}))
          c.problems.push({ ...found, pointer: `${at}${found.pointer}` });
        const params = compileParams(action.params ?? {}, c, `${at}/params`);
        const onCall = VOBIZ_CATALOGUE[name].call;
        return {
          index,
          type: action.type,
          spec: action,
          render: (input) => {
            const rendered = params(templateContext(input)) as Record<string, unknown>;
            const callUuid = input.context.CallUUID;
            if (onCall && rendered.call_uuid === undefined && typeof callUuid === "string")
              rendered.call_uuid = callUuid;
            return { type: "vobiz", vobiz: name, params: rendered };
          },
        };
      }
    }
  });
  return { actions: compiled, problems: c.problems };
}
