import autocannon, { type Result } from "autocannon";
import { request } from "undici";

export interface LoadResult {
  /** Completed requests per second, averaged over the run. */
  rps: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  /** Completed requests. */
  requests: number;
  /** Requests sent, those still in flight when the run ended included. */
  sent: number;
  /** Answers that were not 2xx, errors and timeouts: any of them spoils the figure. */
  failures: number;
}

function summarise(result: Result): LoadResult {
  return {
    rps: result.requests.total / result.duration,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    requests: result.requests.total,
    sent: result.requests.sent,
    failures: result.non2xx + result.errors + result.timeouts,
  };
}

/** Keeps `connections` requests in flight on one path for `seconds`. */
export async function throughput(
  url: string,
  options: { connections: number; seconds: number },
): Promise<LoadResult> {
  return summarise(
    await autocannon({ url, connections: options.connections, duration: options.seconds }),
  );
}

/**
 * Sends one request per path, `connections` at a time, so every request can be a cold one
 * (a path the service has not seen).
 */
export async function eachPathOnce(
  origin: string,
  paths: string[],
  connections = 1,
): Promise<LoadResult> {
  let next = 0;
  return summarise(
    await autocannon({
      url: origin,
      connections,
      amount: paths.length,
      timeout: 30,
      requests: [
        {
          method: "GET",
          setupRequest: (request) => ({ ...request, path: paths[next++ % paths.length] }),
        },
      ],
    }),
  );
}

/**
 * One request at a time, taking the lists' paths in turn (the first of each, then the second of
 * each, ...), so a change in the machine's speed falls on every list alike. Answers the median
 * time of each list's requests after the first `warmUpRounds` (untimed, so each path is
 * measured after JIT warm-up); any answer but a 200 fails the run.
 */
export async function alternately(
  origin: string,
  lists: string[][],
  warmUpRounds = 1,
): Promise<number[]> {
  const times: number[][] = lists.map(() => []);
  const rounds = Math.max(...lists.map((paths) => paths.length));
  for (let round = 0; round < rounds; round++) {
    for (const [index, paths] of lists.entries()) {
      const path = paths[round];
      if (path === undefined) continue;
      const started = performance.now();
      const response = await request(`${origin}${path}`);
      await response.body.text();
      if (response.statusCode !== 200) throw new Error(`${path} answered ${response.statusCode}`);
      if (round >= warmUpRounds) times[index]?.push(performance.now() - started);
    }
  }
  return times.map(median);
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}
