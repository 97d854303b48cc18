import type { Dispatcher } from "undici";
import {
  GitHubBadGatewayError,
  GitHubNotFoundError,
  GitHubRateLimitError,
  GitHubTimeoutError,
} from "./errors.js";
import { FreshAnswers, freshnessLifetimeMs } from "./fresh-answers.js";
import { parseLinkHeader } from "./link-header.js";
import {
  compactRepository,
  type GitHubRepository,
  type GitHubUser,
  repositoryListValidator,
  repositoryValidator,
  userValidator,
} from "./schemas.js";

export interface GitHubClientOptions {
  /** API base such as https://api.github.com, or a GitHub Enterprise base ending in /api/v3. */
  baseUrl: string;
  token?: string | undefined;
  /** Upper bound of one GitHub request, its retries included. */
  timeoutMs: number;
  dispatcher: Dispatcher;
  /** Listing pages fetched at the same time after the first. */
  pageConcurrency?: number;
}

export interface GitHubListing {
  user: GitHubUser;
  repositories: GitHubRepository[];
}

interface Validator<T> {
  Check(value: unknown): value is T;
}

interface JsonResponse<T> {
  body: T;
  headers: Record<string, string | string[] | undefined>;
}

const PAGE_SIZE = 100;
// Ten pages in flight after the first: up to 1,100 repositories cost two round trips of
// latency; beyond that each further ten pages cost one more, while GitHub sees a bounded burst.
const DEFAULT_PAGE_CONCURRENCY = 10;

function headerValue(headers: Record<string, string | string[] | undefined>, name: string) {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Seconds until GitHub lets this client in again, from `Retry-After` or `x-ratelimit-reset`. */
function retryAfterSeconds(headers: Record<string, string | string[] | undefined>): number {
  const retryAfter = headerValue(headers, "retry-after");
  if (retryAfter !== undefined) {
    const seconds = Number(retryAfter);
    if (Number.isFinite(seconds)) return Math.max(1, Math.ceil(seconds));
    const date = Date.parse(retryAfter);
    if (Number.isFinite(date)) return Math.max(1, Math.ceil((date - Date.now()) / 1000));
  }
  const reset = Number(headerValue(headers, "x-ratelimit-reset"));
  if (Number.isFinite(reset) && reset > 0) {
    return Math.max(1, Math.ceil(reset - Date.now() / 1000));
  }
  return 60;
}

function isRateLimited(status: number, headers: Record<string, string | string[] | undefined>) {
  if (status !== 403 && status !== 429) return false;
  return (
    status === 429 ||
    headerValue(headers, "x-ratelimit-remaining") === "0" ||
    headerValue(headers, "retry-after") !== undefined
  );
}

/** Runs `task` over `items` with at most `limit` in flight, keeping the input order. */
async function mapBounded<T, R>(items: T[], limit: number, task: (item: T) => Promise<R>) {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * GitHub's REST API as this service needs it, usable without any HTTP routes. Transport
 * concerns (keep-alive, retries, HTTP caching, redirects, coalescing of requests) live in the
 * dispatcher; this class turns answers into data or into the typed errors of ./errors.ts, and
 * shares parsed answers between callers while GitHub's max-age allows.
 */
export class GitHubClient {
  private readonly base: URL;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly dispatcher: Dispatcher;
  private readonly pageConcurrency: number;
  /** Listings being fetched, by lower-cased login; see listRepositories. */
  private readonly listingsInFlight = new Map<string, Promise<GitHubListing>>();
  private readonly freshAnswers = new FreshAnswers();
  /** Parsed listings are large, so few are kept: enough for the accounts asked for most. */
  private readonly freshListings = new FreshAnswers(16);

  constructor(options: GitHubClientOptions) {
    this.base = new URL(`${options.baseUrl.replace(/\/+$/, "")}/`);
    this.timeoutMs = options.timeoutMs;
    this.dispatcher = options.dispatcher;
    this.pageConcurrency = options.pageConcurrency ?? DEFAULT_PAGE_CONCURRENCY;
    this.headers = {
      accept: "application/vnd.github+json",
      "x-github-api-version": "2022-11-28",
      "user-agent": "github-repos-service",
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    };
  }

  getUser(username: string): Promise<GitHubUser> {
    return this.getResource(
      `users/${encodeURIComponent(username)}`,
      userValidator,
      `user "${username}"`,
    );
  }

  getRepository(owner: string, name: string): Promise<GitHubRepository> {
    return this.getResource(
      `repos/${encodeURIComponent(owner)}/${encodeURIComponent(name)}`,
      repositoryValidator,
      `repository "${owner}/${name}"`,
    );
  }

  /**
   * Every repository the account owns. The account and the first page go out together; the
   * first page's `Link: rel="last"` then tells how many pages remain, and those go out
   * concurrently, `pageConcurrency` at a time: up to 1,100 repositories cost two round trips.
   */
  listRepositories(username: string): Promise<GitHubListing> {
    // Callers asking for a listing that is fresh or already in flight share it. The dispatcher
    // would serve them from its cache, but each would parse and hold its own copy of every page
    // (about 15 MB of objects for 1,000 repositories): 100 such callers at once took 800 MB.
    const key = username.toLowerCase();
    const fresh = this.freshListings.get(key) as GitHubListing | undefined;
    if (fresh !== undefined) return Promise.resolve(fresh);
    const inFlight = this.listingsInFlight.get(key);
    if (inFlight) return inFlight;
    const listing = this.fetchListing(username)
      .then(({ listing, lifetimeMs }) => {
        this.freshListings.set(key, listing, lifetimeMs);
        return listing;
      })
      .finally(() => this.listingsInFlight.delete(key));
    this.listingsInFlight.set(key, listing);
    return listing;
  }

  /** The listing, and how long it stays fresh: as long as its least fresh page. */
  private async fetchListing(
    username: string,
  ): Promise<{ listing: GitHubListing; lifetimeMs: number }> {
    const login = encodeURIComponent(username);
    const firstPage = this.apiUrl(`users/${login}/repos`);
    firstPage.searchParams.set("type", "owner");
    firstPage.searchParams.set("per_page", String(PAGE_SIZE));
    const subject = `repository list of "${username}"`;
    const [user, first] = await Promise.all([
      this.getUser(username),
      this.getJson(firstPage, repositoryListValidator, subject),
    ]);
    const lastPage = this.lastPageUrl(first.headers);
    const pageUrls: URL[] = [];
    const pageCount = lastPage ? Number(lastPage.searchParams.get("page")) : 1;
    for (let page = 2; page <= pageCount; page++) {
      const url = new URL(lastPage as URL);
      url.searchParams.set("page", String(page));
      pageUrls.push(url);
    }
    const rest = await mapBounded(pageUrls, this.pageConcurrency, (url) =>
      this.getJson(url, repositoryListValidator, subject),
    );
    const pages = [first, ...rest];
    // GitHub pages by offset, so a repository created between two page reads can shift another
    // onto the next page twice; the id keeps one copy. Only the documented fields this service
    // reads are kept: GitHub sends about 80 per repository, mostly URLs.
    const byId = new Map<number, GitHubRepository>();
    for (const page of pages) {
      for (const repository of page.body) {
        if (!byId.has(repository.id)) byId.set(repository.id, compactRepository(repository));
      }
    }
    return {
      listing: { user, repositories: [...byId.values()] },
      lifetimeMs: Math.min(...pages.map((page) => freshnessLifetimeMs(page.headers))),
    };
  }

  private apiUrl(path: string): URL {
    return new URL(path, this.base);
  }

  /** The `rel="last"` page link, accepted only when it points back into the configured API. */
  private lastPageUrl(headers: Record<string, string | string[] | undefined>): URL | undefined {
    const last = parseLinkHeader(headerValue(headers, "link")).get("last");
    if (last === undefined) return undefined;
    let url: URL;
    try {
      url = new URL(last);
    } catch {
      throw new GitHubBadGatewayError("GitHub sent a pagination link that is not a URL");
    }
    const page = Number(url.searchParams.get("page"));
    if (url.origin !== this.base.origin || !url.pathname.startsWith(this.base.pathname)) {
      throw new GitHubBadGatewayError("GitHub sent a pagination link outside its API");
    }
    if (!Number.isInteger(page) || page < 1) {
      throw new GitHubBadGatewayError("GitHub sent a pagination link without a page number");
    }
    return url;
  }

  /**
   * One account or repository, from the fresh answers when GitHub's max-age allows. Listings
   * are kept apart, whole and compacted, in `freshListings`: their raw pages are megabytes.
   * Fresh answers are found by `path`, relative to the API base, so a hit builds no URL.
   */
  private async getResource<T>(path: string, validator: Validator<T>, subject: string): Promise<T> {
    const fresh = this.freshAnswers.get(path);
    if (fresh !== undefined) return fresh as T;
    const { body, headers } = await this.getJson(this.apiUrl(path), validator, subject);
    this.freshAnswers.set(path, body, freshnessLifetimeMs(headers));
    return body;
  }

  /** `subject` names what was asked for, such as `user "octocat"`, for error messages. */
  private async getJson<T>(
    url: URL,
    validator: Validator<T>,
    subject: string,
  ): Promise<JsonResponse<T>> {
    const signal = AbortSignal.timeout(this.timeoutMs);
    let response: Dispatcher.ResponseData;
    let text: string;
    try {
      response = await this.dispatcher.request({
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: "GET",
        headers: this.headers,
        signal,
      });
      text = await response.body.text();
    } catch (error) {
      throw this.transportError(error, signal);
    }
    const { statusCode: status, headers } = response;
    if (status >= 200 && status < 300) {
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw new GitHubBadGatewayError(`GitHub's answer for ${subject} is not valid JSON`);
      }
      if (!validator.Check(body)) {
        throw new GitHubBadGatewayError(
          `GitHub's answer for ${subject} does not match its documented shape`,
        );
      }
      return { body, headers };
    }
    throw this.statusError(status, headers, subject);
  }

  private statusError(
    status: number,
    headers: Record<string, string | string[] | undefined>,
    subject: string,
  ) {
    if (status === 404 || status === 410 || status === 451) {
      // A listing's pages are 404 only when the account itself is missing.
      return new GitHubNotFoundError(
        `GitHub has no ${subject.replace("repository list of", "user")}`,
      );
    }
    if (isRateLimited(status, headers)) {
      return new GitHubRateLimitError("GitHub's rate limit is used up", retryAfterSeconds(headers));
    }
    if (status >= 300 && status < 400) {
      return new GitHubBadGatewayError(`GitHub kept redirecting (last answer ${status})`);
    }
    if (status === 401) {
      return new GitHubBadGatewayError("GitHub rejected the service's credentials (401)");
    }
    if (status >= 500) {
      return new GitHubBadGatewayError(`GitHub answered ${status} after retries`);
    }
    return new GitHubBadGatewayError(`GitHub answered ${status}`);
  }

  private transportError(error: unknown, signal: AbortSignal) {
    const code = (error as { code?: string }).code ?? "";
    if (signal.aborted || /TIMEOUT/.test(code)) {
      return new GitHubTimeoutError(`GitHub did not answer within ${this.timeoutMs} ms`);
    }
    return new GitHubBadGatewayError(
      `GitHub could not be reached (${code || "connection failed"})`,
    );
  }
}
