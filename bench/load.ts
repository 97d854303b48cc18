import autocannon, { type Result } from "autocannon";

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
