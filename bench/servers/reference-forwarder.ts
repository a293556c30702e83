/**
 * The delivery benchmark's reference: the smallest receive-and-forward service one would write by hand,
 * in one process: Koa, read the body, verify the V3 HMAC, one awaited Bull add, 200; and a Bull worker at
 * concurrency 50 that POSTs each job's body, form-encoded, with undici. Args: PORT REDIS_URL TOKEN
 * PUBLIC_URL SINK_URL.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import Bull from "bull";
import Koa from "koa";
import getRawBody from "raw-body";
import { request } from "undici";

const [port, redisUrl, token, publicUrl, sinkUrl] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
];
const queue = new Bull<{ body: string }>("reference", redisUrl);
void queue.process(50, async (job) => {
  const response = await request(sinkUrl, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: job.data.body,
  });
  await response.body.dump();
  if (response.statusCode >= 300) throw new Error(`status ${response.statusCode}`);
});
const app = new Koa();
app.use(async (ctx) => {
  const body = await getRawBody(ctx.req, { limit: 65536 });
  const nonce = ctx.get("x-vobiz-signature-v3-nonce");
  const expected = createHmac("sha256", token).update(`${publicUrl}${ctx.path}.${nonce}`).digest();
  const received = Buffer.from(ctx.get("x-vobiz-signature-v3"), "base64");
  if (received.length !== expected.length || !timingSafeEqual(received, expected)) {
    ctx.status = 401;
    return;
  }
  const job = await queue.add({ body: body.toString() }, { removeOnComplete: true, attempts: 4 });
  ctx.body = { status: "received", id: job.id };
});
await queue.isReady();
app.listen(Number(port), "127.0.0.1", () => process.stdout.write("ready\n"));
