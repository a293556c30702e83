/**
 * REDIS_MIN_REPLICAS: /events answers 200 only once that many replicas have the event (Redis WAIT), and
 * 503 QUEUE_UNAVAILABLE with Retry-After when they do not confirm it in time; the sender's retry is then
 * answered 200 (a duplicate) once a replica has it.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { Redis } from "ioredis";
import { startTestService } from "../helpers/service.ts";
import { startTopology, waitForReplicas } from "../helpers/redis-topology.ts";
import { sendVobiz } from "../helpers/vobiz.ts";

const topology = await startTopology({ replicas: 1, sentinel: false });
const service = await startTestService(import.meta.url, {
  REDIS_URL: topology.primary.url,
  REDIS_MIN_REPLICAS: "1",
  REDIS_MIN_REPLICAS_TIMEOUT: "900ms",
  ROLE: "web",
  LOG_LEVEL: "warn",
});
after(async () => {
  await service.close();
  await topology.stop();
});

async function onReplica<T>(port: number, read: (replica: Redis) => Promise<T>): Promise<T> {
  const replica = new Redis(port, "127.0.0.1", { maxRetriesPerRequest: 1 });
  try {
    return await read(replica);
  } finally {
    replica.disconnect();
  }
}

/** Sends like Vobiz does: again after a 503, until a 200 (a busy machine may delay a replica's answer). */
async function storedWithRetries(
  fields: Record<string, string>,
): Promise<{ id: string; duplicate?: boolean }> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const response = await sendVobiz(service.url, "/events", fields);
    if (response.status === 200) return (await response.json()) as { id: string; duplicate?: boolean };
    const text = await response.text();
    assert.equal(response.status, 503, text);
    assert.ok(Date.now() < deadline, `still 503 after 30 s: ${text}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

test("a 200 means a replica has the event; no replica in time means 503, and the retry is kept once one has it", async () => {
  const [first] = topology.replicas;
  assert.ok(first !== undefined);
  const { id } = await storedWithRetries({ Event: "Hangup", CallUUID: "replicated" });
  assert.equal(
    await onReplica(first.port, (replica) => replica.exists(`${service.prefix}:trace:${id}`)),
    1,
    "the replica had the event when the 200 was sent",
  );

  first.kill();
  await first.stop();
  const fields = { Event: "Hangup", CallUUID: "unreplicated" };
  // on a stalled machine the store itself may time out first (also a 503): send again, as Vobiz would,
  // until the answer is the replicas' (bounded)
  let refused: Response;
  let body: { code: string; message: string };
  const deadline = Date.now() + 30_000;
  do {
    refused = await sendVobiz(service.url, "/events", fields, { retries: 0 });
    assert.equal(refused.status, 503);
    body = (await refused.json()) as { code: string; message: string };
  } while (!/confirmed the event within/.test(body.message) && Date.now() < deadline);
  assert.equal(refused.headers.get("retry-after"), "5");
  assert.equal(body.code, "QUEUE_UNAVAILABLE");
  assert.match(body.message, /0 of REDIS_MIN_REPLICAS=1 Redis replicas confirmed the event within 900 ms/);

  const second = await topology.addReplica();
  await waitForReplicas(topology.primary.port, 1);
  const kept = await storedWithRetries(fields);
  assert.equal(kept.duplicate, true, "the primary had kept the first attempt");
  assert.equal(
    await onReplica(second.port, (replica) => replica.exists(`${service.prefix}:trace:${kept.id}`)),
    1,
    "the retry's 200 came once the new replica had the event",
  );
});
