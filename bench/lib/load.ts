/** Loads a server with unique, correctly signed Vobiz callbacks through autocannon. */
import autocannon from "autocannon";
import { signRequest } from "../../server/signatures/vobiz-signature.ts";
import { BENCH_TOKEN } from "./processes.ts";

export interface LoadResult {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  total: number;
}

export interface LoadOptions {
  /** path to POST to */
  path: string;
  connections?: number;
  durationSeconds: number;
  /** a fixed request rate (autocannon overallRate) instead of as fast as possible */
  rate?: number;
  /** form fields of request number `i` (made unique by the caller) */
  fields: (i: number) => Record<string, string>;
}

let salt = 0;

/** Pre-signs enough unique requests (fresh nonces and bodies), then runs autocannon. */
export async function runLoad(url: string, options: LoadOptions): Promise<LoadResult> {
  salt += 1;
  const count = Math.max(50_000, (options.rate ?? 12_000) * options.durationSeconds * 1.5);
  const base = `${url}${options.path}`;
  const prepared: Array<{ body: string; headers: Record<string, string> }> = [];
  for (let i = 0; i < count; i += 1) {
    const fields = { ...options.fields(i), BenchSalt: `${process.pid}-${salt}-${i}` };
    prepared.push({
      body: new URLSearchParams(fields).toString(),
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        ...signRequest(base, BENCH_TOKEN, { schemes: ["v3"] }),
      },
    });
  }
  let next = 0;
  const result = await autocannon({
    url: base,
    connections: options.connections ?? 32,
    duration: options.durationSeconds,
    ...(options.rate === undefined ? {} : { overallRate: options.rate }),
    requests: [
      {
        method: "POST",
        setupRequest: (request) => {
          const item = prepared[next % prepared.length]!;
          next += 1;
          return {
            ...request,
            method: "POST",
            body: item.body,
            headers: { ...request.headers, ...item.headers },
          };
        },
      },
    ],
  });
  return {
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    total: result.requests.total,
  };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
