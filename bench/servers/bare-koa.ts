/** Baseline 1: a bare Koa app that answers every request with a small JSON body. PORT from argv. */
import Koa from "koa";

const app = new Koa();
app.use((ctx) => {
  ctx.body = { status: "ok" };
});
app.listen(Number(process.argv[2]), "127.0.0.1", () => process.stdout.write("ready\n"));
