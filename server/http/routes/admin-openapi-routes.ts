/** `GET /admin/openapi.json`: the OpenAPI 3.1 document of the admin API, built from ADMIN_API. */
import Router from "@koa/router";
import { openApiDocument, validateRequest } from "../admin-api.ts";
import { adminAuth } from "../middleware/admin-auth.ts";
import type { RequestState } from "../middleware/request-context.ts";

export function adminOpenApiRoutes(deps: { adminToken: string }): Router<RequestState> {
  const router = new Router<RequestState>({ prefix: "/admin" });
  router.use(adminAuth(deps.adminToken), validateRequest);
  const document = openApiDocument();
  router.get("/openapi.json", (ctx) => {
    ctx.body = document;
  });
  return router;
}
