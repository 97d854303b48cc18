const ANONYMOUS_LIMIT = 60;
const AUTHENTICATED_LIMIT = 5000;
const WINDOW_SECONDS = 3600;

export interface RateLimitBucket {
  limit: number;
  remaining: number;
  /** Epoch seconds at which the window refills. */
  reset: number;
}

/**
 * GitHub's primary rate limit: one hourly window for anonymous callers (per IP) and one for
 * token holders. The fake keeps a single authenticated window for every token, which is all a
 * test with one service token needs.
 */
export class RateLimiter {
  private readonly anonymous: RateLimitBucket;
  private readonly authenticated: RateLimitBucket;

  constructor(private readonly nowSeconds: () => number = () => Math.floor(Date.now() / 1000)) {
    const reset = this.nowSeconds() + WINDOW_SECONDS;
    this.anonymous = { limit: ANONYMOUS_LIMIT, remaining: ANONYMOUS_LIMIT, reset };
    this.authenticated = { limit: AUTHENTICATED_LIMIT, remaining: AUTHENTICATED_LIMIT, reset };
  }

  /** The caller's window, refilled first if its reset time has passed. */
  bucket(authenticated: boolean): RateLimitBucket {
    const bucket = authenticated ? this.authenticated : this.anonymous;
    const now = this.nowSeconds();
    if (now >= bucket.reset) {
      bucket.remaining = bucket.limit;
      bucket.reset = now + WINDOW_SECONDS;
    }
    return bucket;
  }

  /** Sets both windows (remaining is capped at each limit); reset defaults to the current one. */
  set(remaining: number, resetEpochSeconds?: number): void {
    for (const bucket of [this.anonymous, this.authenticated]) {
      bucket.remaining = Math.max(0, Math.min(bucket.limit, Math.floor(remaining)));
      if (resetEpochSeconds !== undefined) bucket.reset = resetEpochSeconds;
    }
  }
}
