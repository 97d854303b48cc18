import { setMaxListeners } from "node:events";
import type { Dispatcher } from "undici";
import { type CachedAnswer, type Fetched, GitHubCache, MemoryStore } from "./cache.js";
import {
  GitHubBadGatewayError,
  GitHubNotFoundError,
  GitHubRateLimitError,
  GitHubTimeoutError,
} from "./errors.js";
import { parseLinkHeader } from "./link-header.js";
import {
  compactRepository,
  compactUser,
  type GitHubRepository,
  type GitHubUser,
  repositoryListValidator,
  repositoryValidator,
  userValidator,
} from "./schemas.js";
import { Slots } from "./slots.js";

export interface GitHubClientOptions {
  /** API base such as https://api.github.com, or a GitHub Enterprise base ending in /api/v3. */
  baseUrl: string;
  token?: string | undefined;
  /** Upper bound of one GitHub request, its retries and redirects included. */
  timeoutMs: number;
  /**
   * Upper bound of a listing's GitHub time, every page included, from when it gets its turn;
   * defaults to six times `timeoutMs`. Without it a listing's time grows with the account's
   * pages, which GitHub's own `public_repos` sets.
   */
  listingTimeoutMs?: number;
  dispatcher: Dispatcher;
  /** Listing pages fetched at the same time after the first. */
  pageConcurrency?: number;
  /** Where answers are kept; defaults to a cache in this process's memory. */
  cache?: GitHubCache;
  /** Larger answers are a 502, read no further. */
  maxResponseBytes?: number;
  /** Listings fetched at once, and how many more may wait for their turn. */
  listingsAtOnce?: number;
  listingQueue?: number;
}

export interface GitHubListing {
  user: GitHubUser;
  repositories: GitHubRepository[];
  /**
   * The ETags of the account and of every page, in order: the same string means the same
   * answers. Undefined when one of them came without an ETag.
   */
  version: string | undefined;
}

interface Validator<T> {
  Check(value: unknown): value is T;
}

type ResponseHeaders = Record<string, string | string[] | undefined>;

interface Answer {
  status: number;
  headers: ResponseHeaders;
  text(): Promise<string>;
}

const PAGE_SIZE = 100;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;
const DEFAULT_LISTINGS_AT_ONCE = 2;
const DEFAULT_LISTING_QUEUE = 100;
const DEFAULT_LISTING_ROUNDS = 6;
// A page of 100 full repositories is about 0.5 MB.
const DEFAULT_MAX_RESPONSE_BYTES = 5 * 1024 * 1024;
// Ten pages in flight after the first: up to 1,100 repositories cost two round trips of
// latency; beyond that each further ten pages cost one more, while GitHub sees a bounded burst.
const DEFAULT_PAGE_CONCURRENCY = 10;
function headerValue(headers: ResponseHeaders, name: string) {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Seconds until GitHub lets this client in again, from `Retry-After` or `x-ratelimit-reset`. */
function retryAfterSeconds(headers: ResponseHeaders): number {
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

function isRateLimited(status: number, headers: ResponseHeaders) {
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
 * concerns (keep-alive, retries, redirects) live in the dispatcher, and every answer is kept
 * in the one GitHub cache (./cache.ts); this class turns answers into data or into the typed
 * errors of ./errors.ts.
 */
export class GitHubClient {
  readonly cache: GitHubCache;
  private readonly base: URL;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly listingTimeoutMs: number;
  private readonly dispatcher: Dispatcher;
  private readonly pageConcurrency: number;
  private readonly maxResponseBytes: number;
  private readonly listings: Slots;
  /** Epoch milliseconds until which GitHub has said this token's budget is spent. */
  private limitedUntil = 0;

  constructor(options: GitHubClientOptions) {
    this.base = new URL(`${options.baseUrl.replace(/\/+$/, "")}/`);
    this.timeoutMs = options.timeoutMs;
    this.listingTimeoutMs = options.listingTimeoutMs ?? DEFAULT_LISTING_ROUNDS * options.timeoutMs;
    this.dispatcher = options.dispatcher;
    this.pageConcurrency = options.pageConcurrency ?? DEFAULT_PAGE_CONCURRENCY;
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    // Waiting for a turn is bounded apart from GitHub's time, which starts when a request leaves.
    this.listings = new Slots({
      size: options.listingsAtOnce ?? DEFAULT_LISTINGS_AT_ONCE,
      queue: options.listingQueue ?? DEFAULT_LISTING_QUEUE,
      waitMs: options.timeoutMs,
    });
    this.cache = options.cache ?? new GitHubCache(new MemoryStore(), { token: options.token });
    this.headers = {
      accept: "application/vnd.github+json",
      "x-github-api-version": "2022-11-28",
      "user-agent": "github-repos-service",
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    };
  }

  /** `signal`, here and on listRepositories: the caller has gone; nothing more is asked for it. */
  async getUser(username: string, signal?: AbortSignal): Promise<GitHubUser> {
    return (await this.getUserAnswer(username, signal)).value;
  }

  async getRepository(owner: string, name: string): Promise<GitHubRepository> {
    const answer = await this.getResource(
      `repos/${encodeURIComponent(owner)}/${encodeURIComponent(name)}`,
      repositoryValidator,
      compactRepository,
      `repository "${owner}/${name}"`,
      undefined,
    );
    return answer.value;
  }

  /** The account GitHub knows by this id, whatever its login is now (`GET /user/{id}`). */
  async getUserById(id: number, signal?: AbortSignal): Promise<GitHubUser> {
    const answer = await this.getResource(
      `user/${id}`,
      userValidator,
      compactUser,
      `user with id ${id}`,
      signal,
    );
    return answer.value;
  }

  /** The repository GitHub knows by this id, wherever it lives now (`GET /repositories/{id}`). */
  async getRepositoryById(id: number, signal?: AbortSignal): Promise<GitHubRepository> {
    const answer = await this.getResource(
      `repositories/${id}`,
      repositoryValidator,
      compactRepository,
      `repository with id ${id}`,
      signal,
    );
    return answer.value;
  }

  private getUserAnswer(username: string, signal?: AbortSignal) {
    return this.getResource(
      `users/${encodeURIComponent(username)}`,
      userValidator,
      compactUser,
      `user "${username}"`,
      signal,
    );
  }

  /**
   * Every repository the account owns. The account and the first page go out together; the
   * first page's `Link: rel="last"` then tells how many pages remain, and those go out
   * concurrently, `pageConcurrency` at a time: up to 1,100 repositories cost two round trips.
   * The other pages go out as soon as the first page's headers are in: its `Link` is all they
   * wait for, so the first page's body is read and parsed while they travel. Each page is an
   * answer of its own in the cache, fresh or revalidated on its own. At most
   * `listingsAtOnce` listings are fetched at once (their pages are parsed on the event loop
   * every other request needs too); the rest wait in a bounded queue, or are told the service
   * is busy. Once its turn comes, a listing has `listingTimeoutMs` in all: past it, what it
   * still waits for is cancelled and it fails with a timeout.
   */
  listRepositories(username: string, signal?: AbortSignal): Promise<GitHubListing> {
    return this.listings.run(async () => {
      const deadline = new AbortController();
      const timer = setTimeout(
        () =>
          deadline.abort(
            new GitHubTimeoutError(
              `GitHub did not deliver the listing of "${username}" within ${this.listingTimeoutMs} ms`,
            ),
          ),
        this.listingTimeoutMs,
      );
      try {
        // Every wait of the listing takes this signal, so the listing's error is its reason.
        const bounded = signal ? AbortSignal.any([signal, deadline.signal]) : deadline.signal;
        // Each page in flight, the account and the first page listen to it: more than Node's
        // default of 10 listeners, past which it warns of a leak, for any account past 1,100
        // repositories.
        setMaxListeners(this.pageConcurrency + 2, bounded);
        return await this.fetchListing(username, bounded);
      } finally {
        clearTimeout(timer);
      }
    }, signal);
  }

  private async fetchListing(username: string, signal?: AbortSignal): Promise<GitHubListing> {
    const firstPage = this.apiUrl(`users/${encodeURIComponent(username)}/repos`);
    firstPage.searchParams.set("type", "owner");
    firstPage.searchParams.set("per_page", String(PAGE_SIZE));
    const subject = `repository list of "${username}"`;
    let reportLink: (link: string | undefined) => void = () => {};
    const firstLink = new Promise<string | undefined>((resolve) => {
      reportLink = resolve;
    });
    // Should the first page fail before its headers, firstLink never settles, and Promise.all
    // rejects with that failure. Promise.all holds a handler on each part, so a part failing
    // after the listing has already failed is never an unhandled rejection.
    const account = this.getUserAnswer(username, signal);
    const [user, first, rest] = await Promise.all([
      account,
      // A page the cache answers without asking GitHub reports its kept Link here.
      this.getPage(firstPage, subject, signal, reportLink).then((page) => {
        reportLink(page.link);
        return page;
      }),
      Promise.all([account, firstLink]).then(([{ value }, link]) =>
        this.getOtherPages(link, subject, value, signal),
      ),
    ]);
    // GitHub pages by offset, so a repository created between two page reads can shift another
    // onto the next page twice; the id keeps one copy.
    const pages = [first, ...rest];
    const byId = new Map<number, GitHubRepository>();
    for (const page of pages) {
      for (const repository of page.value) {
        if (!byId.has(repository.id)) byId.set(repository.id, repository);
      }
    }
    const etags = [user, ...pages].map((answer) => answer.etag);
    return {
      user: user.value,
      repositories: [...byId.values()],
      version: etags.every((etag) => etag !== undefined) ? etags.join(",") : undefined,
    };
  }

  /**
   * Pages 2 to the first page's `rel="last"`, `pageConcurrency` at a time, but never more than
   * the account's own repository count implies, plus one for repositories created meanwhile:
   * a `Link` naming more would spend GitHub's budget on pages that cannot exist.
   */
  private getOtherPages(
    link: string | undefined,
    subject: string,
    user: GitHubUser,
    signal: AbortSignal | undefined,
  ) {
    const lastPage = this.lastPageUrl(link);
    const pageCount = lastPage ? Number(lastPage.searchParams.get("page")) : 1;
    if (user.public_repos !== undefined) {
      const repositories = user.public_repos + (user.owned_private_repos ?? 0);
      const maxPages = Math.ceil(repositories / PAGE_SIZE) + 1;
      if (pageCount > maxPages) {
        throw new GitHubBadGatewayError(
          `GitHub's pagination for ${subject} names ${pageCount} pages, but the account's ${repositories} repositories fill at most ${maxPages}`,
        );
      }
    }
    const pageUrls: URL[] = [];
    for (let page = 2; page <= pageCount; page++) {
      const url = new URL(lastPage as URL);
      url.searchParams.set("page", String(page));
      pageUrls.push(url);
    }
    return mapBounded(pageUrls, this.pageConcurrency, (url) => this.getPage(url, subject, signal));
  }

  /**
   * One listing page, cut down to the fields this service reads as soon as it arrives: GitHub's
   * full objects (about 5 MB per 1,000 repositories, besides the text they were parsed from)
   * then die young. `onLink` hears the page's `Link` (a 304's from the kept page) as soon as
   * GitHub's headers are in, before the body is read.
   */
  private getPage(
    url: URL,
    subject: string,
    signal: AbortSignal | undefined,
    onLink?: (link: string | undefined) => void,
  ): Promise<CachedAnswer<GitHubRepository[]>> {
    return this.cache.get(
      this.cacheKey(url),
      (kept, abandoned) =>
        this.fetch(url, kept, abandoned, onLink, (text, status, headers) =>
          this.parse({ status, headers, text }, repositoryListValidator, subject).map(
            compactRepository,
          ),
        ),
      signal,
    );
  }

  /** One account or repository, compacted: GitHub's full repository is about 5 KB of objects. */
  private getResource<T>(
    path: string,
    validator: Validator<T>,
    compact: (answer: T) => T,
    subject: string,
    signal: AbortSignal | undefined,
  ): Promise<CachedAnswer<T>> {
    // The paths built above are already what URL would make of them, so the key needs no parse.
    return this.cache.get<T>(
      path.toLowerCase(),
      (kept, abandoned) =>
        this.fetch(this.apiUrl(path), kept, abandoned, undefined, (text, status, headers) =>
          compact(this.parse({ status, headers, text }, validator, subject)),
        ),
      signal,
    );
  }

  /** Asks GitHub, with `kept`'s ETag when there is one; a 304 then stands for `kept`. */
  private async fetch<T>(
    url: URL,
    kept: CachedAnswer<T> | undefined,
    abandoned: AbortSignal,
    onLink: ((link: string | undefined) => void) | undefined,
    read: (text: string, status: number, headers: ResponseHeaders) => T,
  ): Promise<Fetched<T>> {
    const etag = kept?.etag;
    const headers = etag === undefined ? this.headers : { ...this.headers, "if-none-match": etag };
    const response = await this.send(url, headers, abandoned);
    if (response.status === 304 && kept !== undefined && etag !== undefined) {
      onLink?.(kept.link);
      await response.text();
      return { notModified: true, headers: response.headers };
    }
    if (response.status >= 200 && response.status < 300) {
      onLink?.(headerValue(response.headers, "link"));
    }
    const text = await response.text();
    // undici writes a request to an idle keep-alive connection only in the event loop's next
    // check phase (it first lets the connection report a close), so the pages just started
    // would otherwise wait for this parse, a few milliseconds, before leaving.
    if (onLink) await new Promise((resolve) => setImmediate(resolve));
    return {
      notModified: false,
      value: read(text, response.status, response.headers),
      headers: response.headers,
    };
  }

  /**
   * A URL inside the API, relative to its base and lower-cased: the key of its answer in the
   * cache. GitHub's logins and repository names are case-insensitive, and so are its answers.
   */
  private cacheKey(url: URL): string {
    return url.href.slice(this.base.href.length).toLowerCase();
  }

  private apiUrl(path: string): URL {
    return new URL(path, this.base);
  }

  /** The `rel="last"` page link, accepted only when it points back into the configured API. */
  private lastPageUrl(link: string | undefined): URL | undefined {
    const last = parseLinkHeader(link).get("last");
    if (last === undefined) return undefined;
    let url: URL;
    try {
      url = new URL(last);
    } catch {
      throw new GitHubBadGatewayError("GitHub sent a pagination link that is not a URL");
    }
    const page = Number(url.searchParams.get("page"));
    if (!this.insideApi(url)) {
      throw new GitHubBadGatewayError("GitHub sent a pagination link outside its API");
    }
    if (!Number.isInteger(page) || page < 1) {
      throw new GitHubBadGatewayError("GitHub sent a pagination link without a page number");
    }
    return url;
  }

  /**
   * GitHub's answer once its headers are in; `text` reads the rest, up to `maxResponseBytes`.
   * Redirects are followed here, and only within the API (GitHub's 301s for renamed and
   * transferred repositories point there): an answer from anywhere else is never read. While
   * GitHub has said this token's budget is spent, nothing is sent at all.
   */
  private async send(
    url: URL,
    headers: Record<string, string>,
    abandoned: AbortSignal,
  ): Promise<Answer> {
    this.throwWhileLimited();
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = AbortSignal.any([timeout, abandoned]);
    let target = url;
    for (let redirects = 0; ; redirects++) {
      let response: Dispatcher.ResponseData;
      try {
        response = await this.dispatcher.request({
          origin: target.origin,
          path: `${target.pathname}${target.search}`,
          method: "GET",
          headers,
          signal,
        });
      } catch (error) {
        throw this.transportError(error, timeout);
      }
      this.noteBudget(response.statusCode, response.headers);
      const location = headerValue(response.headers, "location");
      if (REDIRECTS.has(response.statusCode) && location && redirects < MAX_REDIRECTS) {
        await response.body.dump();
        target = new URL(location, target);
        if (!this.insideApi(target)) {
          throw new GitHubBadGatewayError("GitHub redirected to a place outside its API");
        }
        continue;
      }
      return this.answerOf(response, timeout);
    }
  }

  private answerOf(response: Dispatcher.ResponseData, signal: AbortSignal): Answer {
    const { body } = response;
    const declared = Number(headerValue(response.headers, "content-length"));
    return {
      status: response.statusCode,
      headers: response.headers,
      text: async () => {
        if (declared > this.maxResponseBytes) {
          body.destroy();
          throw this.tooLarge();
        }
        const chunks: Buffer[] = [];
        let size = 0;
        try {
          for await (const chunk of body as AsyncIterable<Buffer>) {
            size += chunk.length;
            if (size > this.maxResponseBytes) {
              body.destroy();
              throw this.tooLarge();
            }
            chunks.push(chunk);
          }
        } catch (error) {
          if (error instanceof GitHubBadGatewayError) throw error;
          throw this.transportError(error, signal);
        }
        return Buffer.concat(chunks, size).toString("utf8");
      },
    };
  }

  private tooLarge() {
    return new GitHubBadGatewayError(
      `GitHub's answer is larger than the ${this.maxResponseBytes} bytes this service reads`,
    );
  }

  /** Fails at once, without asking GitHub, while GitHub has said the budget is spent. */
  private throwWhileLimited() {
    const waitMs = this.limitedUntil - Date.now();
    if (waitMs > 0) {
      throw new GitHubRateLimitError(
        "GitHub's rate limit is used up",
        Math.max(1, Math.ceil(waitMs / 1000)),
      );
    }
  }

  /**
   * Remembers when GitHub said the budget is spent: a rate-limited answer (until its
   * Retry-After or reset), or a success that used the last request of the window.
   */
  private noteBudget(status: number, headers: ResponseHeaders) {
    const spent =
      isRateLimited(status, headers) ||
      (status < 300 && headerValue(headers, "x-ratelimit-remaining") === "0");
    if (spent) this.limitedUntil = Date.now() + retryAfterSeconds(headers) * 1000;
  }

  private insideApi(url: URL): boolean {
    return url.origin === this.base.origin && url.pathname.startsWith(this.base.pathname);
  }

  /** The checked body of a 2xx answer, or the error its status means. */
  private parse<T>(
    { status, headers, text }: { status: number; headers: ResponseHeaders; text: string },
    validator: Validator<T>,
    subject: string,
  ): T {
    if (status < 200 || status >= 300) throw this.statusError(status, headers, subject);
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
    return body;
  }

  private statusError(status: number, headers: ResponseHeaders, subject: string) {
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
