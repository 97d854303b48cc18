import { createHash } from "node:crypto";
import diagnosticsChannel from "node:diagnostics_channel";
import { Counter, Gauge, type Registry } from "prom-client";

/** GitHub's primary rate limit as its last answer for one token stated it. */
export interface Budget {
  limit: number;
  remaining: number;
  /** When the window resets, in seconds since the epoch. */
  reset: number;
}

export type GitHubRequestKind = "account" | "listing_page" | "repository" | "other";

export type GitHubOutcome =
  | "200"
  | "304"
  | "404"
  | "rate_limited"
  | "5xx"
  | "other"
  | "timeout"
  | "connection_error";

/** What undici publishes about a request; only the fields read here. */
interface UndiciRequest {
  origin?: string | URL;
  path: string;
  headers: unknown;
}
interface HeadersMessage {
  request: UndiciRequest;
  response: { statusCode: number; headers: Array<Buffer | string> };
}
interface ErrorMessage {
  request: UndiciRequest;
  error: Error & { code?: string };
}

const ANONYMOUS = "none";

/** A short, one-way name for a token, so budgets of several tokens can be told apart. */
export function tokenFingerprint(authorization: string | undefined): string {
  if (!authorization) return ANONYMOUS;
  const token = authorization.replace(/^(Bearer|token)\s+/i, "");
  return createHash("sha256").update(token).digest("hex").slice(0, 8);
}

function authorizationOf(headers: unknown): string | undefined {
  // undici keeps a request's headers as a flat [name, value, ...] array.
  if (!Array.isArray(headers)) return undefined;
  for (let i = 0; i < headers.length; i += 2) {
    if (String(headers[i]).toLowerCase() === "authorization") return String(headers[i + 1]);
  }
  return undefined;
}

function responseHeader(headers: Array<Buffer | string>, name: string): string | undefined {
  for (let i = 0; i < headers.length; i += 2) {
    if (String(headers[i]).toLowerCase() === name) return String(headers[i + 1]);
  }
  return undefined;
}

function kindOf(path: string): GitHubRequestKind {
  const [route] = path.split("?");
  // Pages after the first come by the account's id (GitHub's Link names /user/{id}/repos).
  if (/\/(users\/[^/]+|user\/\d+)\/repos$/.test(route ?? "")) return "listing_page";
  if (/\/(users\/[^/]+|user\/\d+)$/.test(route ?? "")) return "account";
  if (/\/(repos\/[^/]+\/[^/]+|repositories\/\d+)$/.test(route ?? "")) return "repository";
  return "other";
}

function outcomeOf(status: number, headers: Array<Buffer | string>): GitHubOutcome {
  if (status === 200 || status === 304 || status === 404) return String(status) as GitHubOutcome;
  if (
    (status === 403 || status === 429) &&
    (responseHeader(headers, "x-ratelimit-remaining") === "0" ||
      responseHeader(headers, "retry-after") !== undefined)
  ) {
    return "rate_limited";
  }
  return status >= 500 ? "5xx" : "other";
}

function errorOutcome(error: ErrorMessage["error"]): GitHubOutcome {
  return error.name === "TimeoutError" || /TIMEOUT/.test(error.code ?? "")
    ? "timeout"
    : "connection_error";
}

/**
 * Counts every request that goes on the wire to GitHub, retries included, and keeps the budget
 * each answer states. It listens to undici's diagnostics channels rather than wrapping the
 * client, so what is counted is what GitHub saw: an answer served from the cache sends nothing
 * and is not counted here.
 */
export class GitHubTraffic {
  private readonly prefix: string;
  private readonly requests: Counter<"kind" | "outcome">;
  private readonly budgets = new Map<string, Budget>();
  private readonly onHeaders = (message: unknown) => {
    const { request, response } = message as HeadersMessage;
    const path = this.pathOf(request);
    if (path === undefined) return;
    this.requests.inc({
      kind: kindOf(path),
      outcome: outcomeOf(response.statusCode, response.headers),
    });
    this.noteBudget(request, response.headers);
  };
  private readonly onError = (message: unknown) => {
    const { request, error } = message as ErrorMessage;
    const path = this.pathOf(request);
    if (path === undefined) return;
    this.requests.inc({ kind: kindOf(path), outcome: errorOutcome(error) });
  };

  constructor(githubApiUrl: string, registry: Registry) {
    this.prefix = githubApiUrl.replace(/\/+$/, "");
    this.requests = new Counter({
      name: "github_requests_total",
      help: "Requests sent to GitHub (each attempt, retries included), by kind and outcome",
      labelNames: ["kind", "outcome"],
      registers: [registry],
    });
    const budgets = this.budgets;
    const budgetGauge = (name: string, help: string, field: keyof Budget) =>
      new Gauge({
        name,
        help,
        labelNames: ["token"],
        registers: [registry],
        collect() {
          for (const [token, budget] of budgets) this.set({ token }, budget[field]);
        },
      });
    budgetGauge("github_rate_limit_limit", "GitHub's rate limit per hour, as last seen", "limit");
    budgetGauge(
      "github_rate_limit_remaining",
      "GitHub's remaining budget, as last seen",
      "remaining",
    );
    budgetGauge(
      "github_rate_limit_reset_seconds",
      "When GitHub's budget resets (epoch seconds)",
      "reset",
    );
    diagnosticsChannel.subscribe("undici:request:headers", this.onHeaders);
    diagnosticsChannel.subscribe("undici:request:error", this.onError);
  }

  /** The budget GitHub's latest answer stated, for the token with the least left. */
  lowestBudget(): Budget | undefined {
    let lowest: Budget | undefined;
    for (const budget of this.budgets.values()) {
      if (!lowest || budget.remaining < lowest.remaining) lowest = budget;
    }
    return lowest;
  }

  close() {
    diagnosticsChannel.unsubscribe("undici:request:headers", this.onHeaders);
    diagnosticsChannel.unsubscribe("undici:request:error", this.onError);
  }

  /** The request's path below GITHUB_API_URL, or undefined for a request to anywhere else. */
  private pathOf(request: UndiciRequest): string | undefined {
    const url = `${String(request.origin ?? "").replace(/\/+$/, "")}${request.path}`;
    if (!url.startsWith(`${this.prefix}/`)) return undefined;
    return url.slice(this.prefix.length);
  }

  private noteBudget(request: UndiciRequest, headers: Array<Buffer | string>) {
    const limit = Number(responseHeader(headers, "x-ratelimit-limit"));
    const remaining = Number(responseHeader(headers, "x-ratelimit-remaining"));
    const reset = Number(responseHeader(headers, "x-ratelimit-reset"));
    if (![limit, remaining, reset].every(Number.isFinite) || limit <= 0) return;
    this.budgets.set(tokenFingerprint(authorizationOf(request.headers)), {
      limit,
      remaining,
      reset,
    });
  }
}
