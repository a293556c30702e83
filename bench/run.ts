/**
 * `npm run bench -- <scenario>`: runs a benchmark on this machine and prints a Markdown report.
 * BENCH_ROUNDS (default 3) and BENCH_SECONDS (default 10) size the run. Scenarios: ingest, evaluate, reload, deliver, answer, memory
 * (BENCH_EVENTS, default 2000, sizes the memory run).
 */
import { answerBenchmark } from "./answer.ts";
import { deliverBenchmark } from "./deliver.ts";
import { evaluateBenchmark } from "./evaluate.ts";
import { ingestBenchmark, ingestReport } from "./ingest.ts";
import { memoryBenchmark } from "./memory.ts";
import { reloadBenchmark } from "./reload.ts";

const scenario = process.argv[2] ?? "ingest";
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const seconds = Number(process.env.BENCH_SECONDS ?? 10);

switch (scenario) {
  case "ingest":
    process.stdout.write(`${ingestReport(await ingestBenchmark(rounds, seconds))}\n`);
    break;
  case "evaluate":
    process.stdout.write(`${evaluateBenchmark(rounds, Math.min(seconds, 3))}\n`);
    break;
  case "answer":
    process.stdout.write(`${await answerBenchmark(rounds, seconds)}\n`);
    break;
  case "deliver":
    process.stdout.write(`${await deliverBenchmark(rounds, seconds)}\n`);
    break;
  case "memory":
    process.stdout.write(`${await memoryBenchmark(Number(process.env.BENCH_EVENTS ?? 2000))}\n`);
    break;
  case "reload":
    process.stdout.write(`${await reloadBenchmark(seconds)}\n`);
    break;
  default:
    process.stderr.write(
      `unknown scenario ${scenario}; try: ingest, evaluate, reload, deliver, answer, memory\n`,
    );
    process.exitCode = 2;
}
