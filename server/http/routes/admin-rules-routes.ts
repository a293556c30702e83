/**
 * Admin routes for the ruleset (SPEC §7): what is loaded (`GET /admin/rules`), the fleet-wide reload
 * (`POST /admin/reload`) and the dry run (`POST /admin/evaluate`, nothing sent or stored).
 */
import Router from "@koa/router";
import type { RenderedAction } from "../../actions/compile-actions.ts";
import { previewVobiz } from "../../actions/preview-vobiz.ts";
import { chooseReply } from "../../answer/choose-reply.ts";
import { AppError } from "../../errors.ts";
import type { ContextOptions } from "../../events/build-context.ts";
import type { CompiledRule } from "../../rules/compile-ruleset.ts";
import { evaluateRules } from "../../rules/evaluate-rules.ts";
import type { FleetReload } from "../../rules/fleet-reload.ts";
import type { LoadedRuleset } from "../../rules/load-ruleset.ts";
import type { VobizAction } from "../../rules/rule-file-types.ts";
import type { RuleRegistry } from "../../rules/rule-registry.ts";
import { testEvent } from "../../rules/run-rule-tests.ts";
import { validateRequest } from "../admin-api.ts";
import { adminAuth } from "../middleware/admin-auth.ts";
import type { RequestState } from "../middleware/request-context.ts";
import { readJsonBody } from "../read-json-body.ts";

export interface AdminRulesDeps {
  adminToken: string;
  registry: RuleRegistry<LoadedRuleset>;
  fleet: FleetReload;
  context: ContextOptions;
}

export function describeRule(rule: CompiledRule): Record<string, unknown> {
  return {
    id: rule.id,
    description: rule.description ?? null,
    file: rule.file,
    line: rule.line,
    pointer: rule.pointer,
    on: rule.on,
    path: rule.paths,
    scope: rule.scope ?? null,
    when: rule.when,
    priority: rule.priority,
    stop: rule.stop,
    enabled: rule.enabled,
    actions: rule.compiled.map((action) => action.spec),
    tests: rule.tests.length,
  };
}

function dryRunInput(body: Record<string, unknown>): {
  path: string;
  event: Record<string, unknown>;
  at?: string;
  query?: Record<string, string>;
} {
  const problems: string[] = [];
  const { path, event, at, query } = body;
  if (typeof path !== "string" || !path.startsWith("/"))
    problems.push('"path" must be a request path such as "/events" or "/answer/support"');
  if (event === null || typeof event !== "object" || Array.isArray(event))
    problems.push(
      '"event" must be an object of payload fields, such as {"Event": "Hangup", "From": "919876543210"}',
    );
  if (at !== undefined && (typeof at !== "string" || Number.isNaN(Date.parse(at))))
    problems.push('"at" must be an ISO 8601 time such as "2025-01-06T10:00:00Z"');
  if (
    query !== undefined &&
    (query === null || typeof query !== "object" || Object.values(query).some((v) => typeof v !== "string"))
  ) {
    problems.push('"query" must be an object of strings, such as {"app": "support"}');
  }
  if (problems.length > 0)
    throw new AppError("ADMIN_BODY_INVALID", problems.join("; "), { details: { problems } });
  return body as ReturnType<typeof dryRunInput>;
}

export function adminRulesRoutes(deps: AdminRulesDeps): Router<RequestState> {
  const router = new Router<RequestState>({ prefix: "/admin" });
  router.use(adminAuth(deps.adminToken), validateRequest);

  router.get("/rules", async (ctx) => {
    const current = deps.registry.current;
    ctx.body = {
      version: current?.version ?? null,
      instance: deps.fleet.instanceId,
      instances: await deps.fleet.instances().catch(() => []),
      items: current ? current.ruleset.ruleset.rules.map(describeRule) : [],
      next: null,
      // what the loaded files use that Vobiz's own documents disagree about (accepted)
      warnings: current?.ruleset.warnings ?? [],
    };
  });

  router.post("/reload", async (ctx) => {
    const instances = await deps.fleet.reloadAll();
    const own = instances.find((report) => report.id === deps.fleet.instanceId);
    if (own && own.errors.length > 0) {
      ctx.status = 422;
      ctx.body = {
        code: "RULESET_INVALID",
        message: `${own.errors.length} problem(s) in the rule files or templates; the previous ruleset keeps serving`,
        errors: own.errors,
        warnings: own.warnings ?? [],
        instances,
      };
      return;
    }
    ctx.body = {
      version: own?.version ?? deps.registry.current?.version ?? null,
      warnings: own?.warnings ?? [],
      instances,
    };
  });

  router.post("/evaluate", async (ctx) => {
    const input = dryRunInput(await readJsonBody(ctx));
    const current = deps.registry.current;
    if (!current) throw new AppError("RULESET_INVALID", "No ruleset is loaded.");
    const { ruleset, defaultReply } = current.ruleset;
    const { context, payload } = testEvent(input, deps.context);
    const evaluation = evaluateRules(ruleset, context, { explain: true });
    const matched = evaluation.matched.map((rule) => {
      const actions: Array<RenderedAction | { type: string; error: string }> = rule.compiled.map((action) => {
        try {
          const rendered = action.render({
            context,
            payload,
            rule: { id: rule.id, description: rule.description },
          });
          // a vobiz action: the request Vobiz would get, secrets masked
          return rendered.type === "vobiz"
            ? previewVobiz(rendered, action.spec as VobizAction, {
                authId: deps.context.accountId,
                publicUrl: deps.context.publicUrl,
                query: context.meta.query,
              })
            : rendered;
        } catch (error) {
          return { type: action.type, error: (error as Error).message };
        }
      });
      return {
        id: rule.id,
        description: rule.description ?? null,
        file: rule.file,
        line: rule.line,
        actions,
      };
    });
    let reply: Record<string, unknown> | null = null;
    if (context.meta.route === "answer") {
      try {
        reply = { ...chooseReply(evaluation.matched, { context, payload }, defaultReply) };
      } catch (error) {
        reply = { error: (error as Error).message, source: "fallback" };
      }
    }
    ctx.body = {
      version: current.version,
      event: {
        type: context.meta.type,
        route: context.meta.route,
        path: context.meta.path,
        receivedAt: context.meta.receivedAt,
        scope: context.meta.scope,
      },
      matched,
      rules: evaluation.verdicts,
      reply,
      errors: evaluation.errors,
    };
  });
  return router;
}
