import { Agent, type Dispatcher, interceptors } from "undici";

export interface GitHubDispatcherOptions {
  /** Bounds connecting, waiting for headers and each gap between body chunks. */
  timeoutMs: number;
  /** Retries after the first attempt, for 5xx answers and connection errors only. */
  maxRetries?: number;
  /** Ceiling of the first backoff; doubled per retry, then jittered down to a random share. */
  retryBaseDelayMs?: number;
  retryMaxDelayMs?: number;
}

const RETRYABLE_STATUS = [500, 502, 503, 504];

// Connection-level failures where nothing was processed, so asking again is safe. Timeouts are
// absent on purpose: a request that used up its time has no time left to retry in.
const RETRYABLE_ERROR_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "ENOTFOUND",
  "ENETUNREACH",
  "EHOSTUNREACH",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
]);

type RetryCallback = NonNullable<Parameters<typeof interceptors.retry>[0]>["retry"];

/**
 * Exponential backoff with full jitter (a random delay below the exponential ceiling), so that
 * replicas retrying the same GitHub hiccup do not return in lock-step.
 */
function jitteredRetry(maxRetries: number, baseDelayMs: number, maxDelayMs: number): RetryCallback {
  return (err, { state, opts }, callback) => {
    const { statusCode, code } = err as { statusCode?: number; code?: string };
    const retryable =
      statusCode !== undefined
        ? RETRYABLE_STATUS.includes(statusCode)
        : code !== undefined && RETRYABLE_ERROR_CODES.has(code);
    if (!retryable || opts.method !== "GET" || state.counter > maxRetries) {
      callback(err);
      return;
    }
    const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (state.counter - 1));
    setTimeout(() => callback(null), Math.random() * ceiling);
  };
}

/**
 * The keep-alive pool every GitHub call goes through, with undici's retry interceptor closest
 * to the wire. Caching and coalescing are not here (the client's one cache, ./cache.ts, does
 * both on the compact values it keeps), nor are redirects: the client follows them only
 * within the API, which undici's redirect interceptor cannot be told.
 */
export function createGitHubDispatcher(options: GitHubDispatcherOptions): Dispatcher {
  const { timeoutMs, maxRetries = 2, retryBaseDelayMs = 200, retryMaxDelayMs = 2_000 } = options;
  const agent = new Agent({
    connectTimeout: timeoutMs,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    keepAliveTimeout: 30_000,
    connections: 64,
  });
  return agent.compose(
    interceptors.retry({
      maxRetries,
      methods: ["GET"],
      statusCodes: RETRYABLE_STATUS,
      throwOnError: false,
      retry: jitteredRetry(maxRetries, retryBaseDelayMs, retryMaxDelayMs),
    }),
  );
}
