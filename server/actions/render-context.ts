/**
 * What templates see (SPEC §3): the event context plus, in templates only, `secrets`, `rule` and
 * `meta.attempt`. Secrets are resolved only where a request is really sent; everywhere else (rule tests,
 * the dry run) a secret renders as `[secret NAME]`, so rendered output can be shown and stored safely.
 */
import type { EventContext } from "../events/build-context.ts";
import { mergeData } from "../events/merge-data.ts";
import type { Payload } from "../events/parse-payload.ts";

export interface RenderInput {
  context: EventContext;
  payload: Payload;
  /** the body exactly as received, so form forwards can send it byte for byte */
  raw?: { text: string; contentType: string };
  /** real secret values (send time only); undefined renders placeholders */
  secrets?: Readonly<Record<string, string>>;
  rule: { id: string; description: string | undefined };
  attempt?: number;
}

const placeholders: Readonly<Record<string, string>> = new Proxy(
  {},
  { get: (_, name) => (typeof name === "string" ? `[secret ${name}]` : undefined), has: () => true },
);

/** `vars` (a respond action's) are merged in the same copy: this runs for every rendered template. */
export function templateContext(
  input: RenderInput,
  vars?: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  return mergeData(input.context, vars, {
    meta: mergeData(input.context.meta, { attempt: input.attempt ?? 1 }),
    secrets: input.secrets ?? placeholders,
    rule: input.rule,
  });
}
