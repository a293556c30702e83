import assert from "node:assert/strict";
import { test } from "node:test";
import { classify, isSuccess, requestLine } from "../../../server/actions/send-forward.ts";

test("success specs: classes and exact codes", () => {
  assert.equal(isSuccess(204, "2xx"), true);
  assert.equal(isSuccess(404, "2xx"), false);
  assert.equal(isSuccess(404, "2xx,404"), true);
  assert.equal(isSuccess(302, "2xx,3xx"), true);
});

test("4xx other than 408/409/425/429 fail for good; 5xx and those four are retried", () => {
  for (const status of [400, 401, 403, 404, 410, 422])
    assert.equal(classify(status, "2xx"), "permanent", String(status));
  for (const status of [408, 409, 425, 429, 500, 502, 503, 504, 302])
    assert.equal(classify(status, "2xx"), "retry", String(status));
  assert.equal(classify(200, "2xx"), "delivered");
});

test("the request line never carries the query string", () => {
  assert.equal(
    requestLine("GET", "https://crm.example.com/calls?token=abc&caller=1"),
    "GET https://crm.example.com/calls",
  );
  assert.equal(requestLine("POST", "not a url"), "POST (invalid URL)");
});
