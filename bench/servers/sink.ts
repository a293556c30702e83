/**
 * The forward destination for the delivery benchmark: answers 200 to every POST and counts them;
 * `GET /count` reports the count and the time of the last delivery, `DELETE /count` resets. Args: PORT.
 */
import { createServer } from "node:http";

const [port] = process.argv.slice(2) as [string];
let count = 0;
let last = 0;
createServer((req, res) => {
  if (req.method === "GET") {
    res.end(JSON.stringify({ count, last }));
    return;
  }
  if (req.method === "DELETE") {
    count = 0;
    last = 0;
    res.end("{}");
    return;
  }
  req.resume();
  req.on("end", () => {
    count += 1;
    last = Date.now();
    res.end("ok");
  });
}).listen(Number(port), "127.0.0.1", () => process.stdout.write("ready\n"));
