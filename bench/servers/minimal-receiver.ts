/**
 * Baseline 2: the smallest durable receiver one would write by hand: Koa, read the body, verify the V3
 * HMAC, URLSearchParams, one awaited Bull add, 200. Args: PORT REDIS_URL TOKEN PUBLIC_URL.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import Bull from "bull";
import Koa from "koa";
import getRawBody from "raw-body";

const [port, redisUrl, token, publicUrl] = process.argv.slice(2) as [string, string, string, string];
const queue = new Bull("minimal", redisUrl);
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
  const payload = Object.fromEntries(new URLSearchParams(body.toString()));
  const job = await queue.add(payload);
  ctx.body = { status: "received", id: job.id };
});
await queue.isReady();
app.listen(Number(port), "127.0.0.1", () => process.stdout.write("ready\n"));
