/**
 * What can go wrong when asking GitHub, in the terms the HTTP layer answers with. Each kind maps
 * to one status in API.md's table, so routes never inspect upstream status codes themselves.
 */
export abstract class GitHubError extends Error {
  abstract readonly kind: "not-found" | "rate-limited" | "bad-gateway" | "timeout" | "busy";
}

export class GitHubNotFoundError extends GitHubError {
  readonly kind = "not-found";
}

/** GitHub's primary or secondary rate limit: the caller should come back after `retryAfterSeconds`. */
export class GitHubRateLimitError extends GitHubError {
  readonly kind = "rate-limited";
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/** GitHub answered with a 5xx after retries, could not be reached, or sent an undocumented body. */
export class GitHubBadGatewayError extends GitHubError {
  readonly kind = "bad-gateway";
}

export class GitHubTimeoutError extends GitHubError {
  readonly kind = "timeout";
}

/** The service's own bound on GitHub work at once was reached: nothing was asked of GitHub. */
export class GitHubBusyError extends GitHubError {
  readonly kind = "busy";
}
