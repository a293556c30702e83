import assert from "node:assert/strict";
import { test } from "node:test";
import { startHttpSink } from "../../helpers/http-sink.ts";

test("the sink records requests and answers as scripted", async () => {
  const sink = await startHttpSink((_request, n) =>
    n === 1 ? { status: 503 } : { status: 201, body: "made" },
  );
  const first = await fetch(`${sink.url}/crm?caller=%2B91`, { method: "POST", body: "a=1" });
  const second = await fetch(`${sink.url}/crm`, { method: "PUT", body: "b=2", headers: { "x-test": "yes" } });
  assert.equal(first.status, 503);
  assert.equal(second.status, 201);
  assert.equal(await second.text(), "made");
  const seen = await sink.waitFor(2);
  assert.deepEqual(
    seen.map((r) => [r.method, r.url, r.body]),
    [
      ["POST", "/crm?caller=%2B91", "a=1"],
      ["PUT", "/crm", "b=2"],
    ],
  );
  assert.equal(seen[1]?.headers["x-test"], "yes");
  await assert.rejects(sink.waitFor(3, 50), /expected 3 requests/);
});
