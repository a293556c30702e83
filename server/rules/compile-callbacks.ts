/**
 * The seed systems' configuration as ordinary rules (SPEC §6.1, §6.2). Pure.
 *
 * `callbacks` (Vobiz callback configuration): each application, trunk and the account default becomes a
 * forward rule (`callbacks.application.<id>`, `callbacks.trunk.<id>`, `callbacks.account.default`) in the
 * group "callbacks", ordered most specific first; the evaluator keeps only the first matching rule of a
 * group, so the most specific level that accepts the event type wins. Forwards are form-encoded like
 * Vobiz's own, with the level's method and fallback URL. An empty or missing events list accepts all.
 *
 * `callback` (Kaleyra callback profiles): event keys are case-insensitive; each profile id and each URL
 * becomes a forward rule `callback.<event>.<n>`; URLs are sent with GET unless the profile says otherwise.
 */
import type { RuleProblem } from "./rule-problems.ts";
import type { Destination, RuleSpec } from "./rule-file-types.ts";

export interface DerivedRule {
  spec: RuleSpec;
  /** where in the file it was written */
  pointer: string;
  /** the section it was written in */
  source: "rules" | "callbacks" | "callback";
  /** rules of one group are exclusive: only the first that matches counts */
  group?: string;
}

interface Level {
  default_callback_url?: string;
  callback_url?: string;
  callback_method?: "GET" | "POST";
  fallback_callback_url?: string;
  callback_events?: string[];
  status_callback?: string;
  status_callback_method?: "GET" | "POST";
  status_callback_events?: string[];
  fallback_status_callback?: string;
}

export interface CallbacksSection {
  account?: Level;
  applications?: Record<string, Level>;
  trunks?: Record<string, Level>;
}

export type KaleyraSection = Record<string, { callback_profile?: string[]; url?: string[] }>;

const escapePointer = (key: string): string => key.replace(/~/g, "~0").replace(/\//g, "~1");
const eventsOf = (events: string[] | undefined): string[] =>
  events === undefined || events.length === 0 ? ["*"] : events;

export function callbacksRules(section: CallbacksSection | undefined): DerivedRule[] {
  if (section === undefined) return [];
  const derived: DerivedRule[] = [];
  const add = (
    id: string,
    pointer: string,
    level: Level,
    scope: RuleSpec["scope"],
    description: string,
  ): void => {
    const url = level.callback_url ?? level.status_callback ?? level.default_callback_url;
    if (url === undefined) return;
    const fallback = level.fallback_callback_url ?? level.fallback_status_callback;
    derived.push({
      pointer,
      source: "callbacks",
      group: "callbacks",
      spec: {
        id,
        description,
        on: eventsOf(level.callback_events ?? level.status_callback_events),
        ...(scope ? { scope } : {}),
        actions: [
          {
            type: "forward",
            url,
            method: level.callback_method ?? level.status_callback_method ?? "POST",
            body: "form",
            ...(fallback === undefined ? {} : { fallback_url: fallback }),
          },
        ],
      },
    });
  };
  for (const [app, level] of Object.entries(section.applications ?? {})) {
    add(
      `callbacks.application.${app}`,
      `/callbacks/applications/${escapePointer(app)}`,
      level,
      { app },
      `callback_url of application ${app}`,
    );
  }
  for (const [trunk, level] of Object.entries(section.trunks ?? {})) {
    add(
      `callbacks.trunk.${trunk}`,
      `/callbacks/trunks/${escapePointer(trunk)}`,
      level,
      { trunk },
      `status_callback of trunk ${trunk}`,
    );
  }
  if (section.account)
    add(
      "callbacks.account.default",
      "/callbacks/account",
      section.account,
      undefined,
      "the account's default_callback_url",
    );
  return derived;
}

export function kaleyraRules(
  section: KaleyraSection | undefined,
  profiles: ReadonlyMap<string, { destination: Destination }>,
): { derived: DerivedRule[]; problems: Array<Pick<RuleProblem, "pointer" | "code" | "message">> } {
  const derived: DerivedRule[] = [];
  const problems: Array<Pick<RuleProblem, "pointer" | "code" | "message">> = [];
  for (const [key, entry] of Object.entries(section ?? {})) {
    const event = key.toLowerCase();
    const at = `/callback/${escapePointer(key)}`;
    const ids = entry.callback_profile ?? [];
    const urls = entry.url ?? [];
    if (ids.length + urls.length > 10) {
      problems.push({
        pointer: at,
        code: "RULE_TOO_MANY_CALLBACKS",
        message: `"${key}" lists ${ids.length} profile ids and ${urls.length} URLs; at most 10 together are allowed`,
      });
    }
    let n = 0;
    ids.forEach((id, i) => {
      n += 1;
      if (!profiles.has(id)) {
        const known = [...profiles.keys()];
        problems.push({
          pointer: `${at}/callback_profile/${i}`,
          code: "RULE_UNKNOWN_PROFILE",
          message: `no profile "${id}" in any rule file; ${known.length > 0 ? `defined: ${known.join(", ")}` : 'define it under "profiles"'}`,
        });
        return;
      }
      const method = profiles.get(id)?.destination.method ?? "GET";
      derived.push({
        pointer: `${at}/callback_profile/${i}`,
        source: "callback",
        spec: {
          id: `callback.${event}.${n}`,
          description: `callback profile ${id} on ${event}`,
          on: event,
          actions: [{ type: "forward", profile: id, method }],
        },
      });
    });
    urls.forEach((url, i) => {
      n += 1;
      derived.push({
        pointer: `${at}/url/${i}`,
        source: "callback",
        spec: {
          id: `callback.${event}.${n}`,
          description: `callback URL on ${event}`,
          on: event,
          actions: [{ type: "forward", url, method: "GET" }],
        },
      });
    });
  }
  return { derived, problems };
}
