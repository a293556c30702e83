/**
 * Dead letters (SPEC §7): list them (newest first, cursor pages, filters `rule` and `host`), retry one,
 * or retry all (optionally filtered; vobiz actions of unknown outcome only with `include_unknown`). A retry adds a fresh action job with all its attempts; the
 * Idempotency-Key stays the same, so a receiver that already got it can tell.
 */
import Router from "@koa/router";
import type { DeadLetter, DeadLetters } from "../../actions/dead-letters.ts";
import { AppError } from "../../errors.ts";
import type { EventQueue } from "../../queue/event-queue.ts";
import { validateRequest } from "../admin-api.ts";
import { adminAuth } from "../middleware/admin-auth.ts";
import type { RequestState } from "../middleware/request-context.ts";
import { readJsonBody } from "../read-json-body.ts";

export interface AdminDeadLetterDeps {
  adminToken: string;
  deadLetters: DeadLetters;
  queue: Pick<EventQueue, "redrive">;
}

const summary = ({ job, ...letter }: DeadLetter): Record<string, unknown> => ({
  ...letter,
  event: { id: job.event.id, path: job.event.path, receivedAt: job.event.receivedAt },
  action: job.action,
});

const text = (value: unknown): string | undefined =>
  typeof value === "string" && value !== "" ? value : undefined;

export function adminDeadLetterRoutes(deps: AdminDeadLetterDeps): Router<RequestState> {
  const router = new Router<RequestState>({ prefix: "/admin/dead-letters" });
  router.use(adminAuth(deps.adminToken), validateRequest);

  const redrive = async (letter: DeadLetter): Promise<string> => {
    const redrives = letter.retries + 1;
    const jobId = `${letter.id}:retry-${redrives}`;
    await deps.queue.redrive({ ...letter.job, deferrals: 0, redrives }, jobId);
    await deps.deadLetters.remove(letter.id);
    return jobId;
  };

  router.get("/", async (ctx) => {
    const limit = Number(ctx.query.limit ?? 50);
    const page = await deps.deadLetters.list({
      cursor: text(ctx.query.cursor),
      limit: Number.isFinite(limit) ? limit : 50,
      rule: text(ctx.query.rule),
      host: text(ctx.query.host),
    });
    ctx.body = { items: page.items.map(summary), next: page.next };
  });

  router.post("/retry", async (ctx) => {
    const body = await readJsonBody(ctx);
    // every matching letter is found first, then retried: a retry removes its letter, so paging by
    // offset over the list while retrying would skip as many letters as it had retried
    const matching: DeadLetter[] = [];
    // pages are offsets into the newest-first index: a letter added meanwhile (a delivery that just ran
    // out of attempts) shifts the next page by one, which would list one letter twice and redrive it twice
    const seen = new Set<string>();
    let cursor: string | undefined;
    do {
      const page = await deps.deadLetters.list({
        cursor,
        limit: 500,
        rule: text(body.rule),
        host: text(body.host),
      });
      for (const letter of page.items) {
        if (seen.has(letter.id)) continue;
        seen.add(letter.id);
        matching.push(letter);
      }
      cursor = page.next ?? undefined;
    } while (cursor !== undefined);
    // a vobiz action of unknown outcome may have taken effect: a bulk retry leaves it unless asked
    const withUnknown = body.include_unknown === true;
    const chosen = matching.filter((letter) => withUnknown || letter.needs_decision === undefined);
    const retried: Array<{ id: string; job: string }> = [];
    for (const letter of chosen) retried.push({ id: letter.id, job: await redrive(letter) });
    ctx.status = 202;
    ctx.body = {
      retried: retried.length,
      items: retried,
      ...(chosen.length < matching.length ? { needing_decision: matching.length - chosen.length } : {}),
    };
  });

  router.post("/:id/retry", async (ctx) => {
    const letter = await deps.deadLetters.get(ctx.params.id ?? "");
    if (letter === undefined)
      throw new AppError("NOT_FOUND", `No dead letter with id "${ctx.params.id ?? ""}".`);
    ctx.status = 202;
    ctx.body = { id: letter.id, job: await redrive(letter) };
  });
  return router;
}
