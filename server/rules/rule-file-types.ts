import type { VobizActionName } from "../actions/vobiz-catalogue.ts";
import type { CallbacksSection, KaleyraSection } from "./compile-callbacks.ts";

/** The shapes of a rule file after schema validation (server/rules/rule-file.schema.json). */
export type StringOrList = string | string[];

export interface Retry {
  attempts?: number;
  backoff?: "fixed" | "exponential";
  delay?: string;
  max_delay?: string;
}

export type Body =
  "form" | "json" | { template: string; content_type?: string } | { inline: string; content_type?: string };

export interface Destination {
  url?: string;
  method?: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  headers?: Record<string, string>;
  body?: Body;
  timeout?: string;
  retry?: Retry;
  fallback_url?: string;
  sign?: boolean;
  success?: string;
  signing_secret?: string;
  events?: string[];
}

export interface ForwardAction extends Omit<Destination, "events"> {
  type: "forward";
  profile?: string;
}

export interface RespondAction {
  type: "respond";
  template?: string;
  xml?: string;
  vars?: Record<string, unknown>;
}

export interface VobizAction {
  type: "vobiz";
  vobiz: VobizActionName;
  params?: Record<string, unknown>;
  /** the loop breaker's limits for this rule's action (defaults in actions/run-vobiz.ts) */
  limits?: VobizLimits;
}

export interface VobizLimits {
  /** refuse to act on an event that this many Vobiz actions led to (default 3) */
  max_hops?: number;
  /** at most `max` actions to the same number per `window` (default 3 in 10m; make_call, whatsapp_message) */
  per_number?: { max?: number; window?: string };
}

export type Action = ForwardAction | RespondAction | VobizAction;

export interface RuleTest {
  name?: string;
  path?: string;
  event: Record<string, unknown>;
  query?: Record<string, string>;
  at?: string;
  expect: {
    match?: boolean;
    rules?: string[];
    forward?: Array<Record<string, unknown>>;
    xml?: string;
    xml_contains?: StringOrList;
    vobiz?: Array<Record<string, unknown>>;
  };
}

export interface RuleSpec {
  id: string;
  description?: string;
  on?: StringOrList;
  path?: StringOrList;
  scope?: { account?: string; app?: string; trunk?: string; call?: string };
  when?: unknown;
  priority?: number;
  stop?: boolean;
  enabled?: boolean;
  actions: Action[];
  tests?: RuleTest[];
}

export interface RuleFileData {
  description?: string;
  rules?: RuleSpec[];
  profiles?: Record<string, Destination>;
  callbacks?: CallbacksSection;
  callback?: KaleyraSection;
  fallback?: string;
  /** event names this file's rules use in `on` that are not Vobiz events or aliases */
  custom_events?: string[];
}
