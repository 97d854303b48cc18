import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type BodyContext,
  fullRepositoryBody,
  minimalRepositoryBody,
  movedPermanentlyBody,
  notFoundBody,
  publicUserBody,
  rateLimitedBody,
  secondaryRateLimitedBody,
  serverErrorBody,
} from "./bodies.js";
import { FaultInjector } from "./faults.js";
import {
  etagFor,
  githubHeaders,
  type HeaderList,
  isNotModified,
  JSON_CONTENT_TYPE,
  paginationLink,
  RequestIds,
  rateLimitHeaders,
  validatorHeaders,
} from "./headers.js";
import { SeededRandom } from "./random.js";
import { RateLimiter } from "./rate-limit.js";
import { FakeStore, type RepoRecord, type UserRecord } from "./store.js";
import type {
  FakeRepoHandle,
  FakeRepoInit,
  FakeUserHandle,
  FakeUserInit,
  FaultSpec,
  RecordedRequest,
} from "./types.js";

export type {
  FakeRepoHandle,
  FakeRepoInit,
  FakeUserHandle,
  FakeUserInit,
  FaultKind,
  FaultSpec,
  RecordedRequest,
} from "./types.js";

export interface FakeGitHubOptions {
  /** Delay before each answer, in milliseconds (default 0); `latencyMs` changes it later. */
  latencyMs?: number;
  /** Seeds the generated data, the fault draws and the request ids (default 1). */
  seed?: number;
  /** The `max-age` of cacheable answers, GitHub's 60 s by default. */
  maxAgeSeconds?: number;
}

interface Answer {
  status: number;
  headers: HeaderList;
  /** Undefined for answers without a body (304). */
  body?: string | Buffer;
}

// Enough for the benchmark's accounts (a 1,000-repository listing is about 5 MB of pages).
const RENDERED_BYTES_LIMIT = 256 * 1024 * 1024;

type Resource =
  | { kind: "json"; body: unknown; lastModified?: string; link?: string }
  | { kind: "moved"; location: string }
  | { kind: "not-found" };

/**
 * What a route found, before conditional requests and rate limiting are applied, with JSON
 * encoded once: writing a page of 100 repositories from a string cost the fake 2 ms a time.
 */
type Rendered =
  | { kind: "json"; body: Buffer; etag: string; lastModified?: string; link?: string }
  | Exclude<Resource, { kind: "json" }>;

const NOT_FOUND = { kind: "not-found" } as const;
const DEFAULT_PER_PAGE = 30;
const MAX_PER_PAGE = 100;
const DEFAULT_RETRY_AFTER_SECONDS = 60;

function isVisible(repo: RepoRecord, ctx: BodyContext): boolean {
  return ctx.authenticated || (!repo.private && repo.visibility === "public");
}

function positiveInt(value: string | null): number | undefined {
  if (value === null || !/^\d+$/.test(value)) return undefined;
  const parsed = Number(value);
  return parsed >= 1 ? parsed : undefined;
}

// One collator for every comparison: localeCompare builds one per call, which made sorting a
// 1,000-repository listing cost more CPU than the rest of answering a page.
const NAME_ORDER = new Intl.Collator("en");

/**
 * GitHub's listing order: `sort` (default full_name) and `direction` (default asc for
 * full_name, desc otherwise). Names compare case-insensitively, as the 2017 recording shows.
 */
function sortRepositories(repos: RepoRecord[], query: URLSearchParams) {
  const sort = query.get("sort") ?? "full_name";
  const dateKey = ({ created: "created_at", updated: "updated_at", pushed: "pushed_at" } as const)[
    sort as "created" | "updated" | "pushed"
  ];
  const direction = query.get("direction") ?? (dateKey ? "desc" : "asc");
  const sign = direction === "desc" ? -1 : 1;
  // A listing is one owner's: the full names share the prefix, so names alone order them.
  const byName = (a: RepoRecord, b: RepoRecord) =>
    NAME_ORDER.compare(a.name.toLowerCase(), b.name.toLowerCase());
  const compare = dateKey
    ? (a: RepoRecord, b: RepoRecord) =>
        Date.parse(a[dateKey]) - Date.parse(b[dateKey]) || byName(a, b)
    : byName;
  return repos.sort((a, b) => sign * compare(a, b) || a.id - b.id);
}

/**
 * A fake api.github.com on 127.0.0.1 for GET /users/{u}, /users/{u}/repos, /user/{id}/repos,
 * /repos/{o}/{r} and /repositories/{id}, with GitHub's headers, ETags and 304s, pagination
 * links, 301s for moved repositories, the primary rate limit, and injectable faults.
 */
export class FakeGitHub {
  readonly url: string;
  /** Delay before each answer, in milliseconds; may be changed at any time. */
  latencyMs: number;
  /** Every request received, in arrival order; `status` is filled in once answered. */
  readonly requests: RecordedRequest[] = [];

  private readonly store: FakeStore;
  private readonly faults: FaultInjector;
  private readonly rateLimiter = new RateLimiter();
  private readonly pendingAnswers = new Set<NodeJS.Timeout>();
  private readonly unanswered = new Set<RecordedRequest>();
  private readonly rendered = new Map<string, Rendered>();
  private renderedBytes = 0;
  private readonly requestIds: RequestIds;
  private readonly maxAgeSeconds: number;
  private closed = false;

  private constructor(
    private readonly server: Server,
    url: string,
    options: FakeGitHubOptions,
  ) {
    const seed = options.seed ?? 1;
    this.url = url;
    this.latencyMs = options.latencyMs ?? 0;
    this.maxAgeSeconds = options.maxAgeSeconds ?? 60;
    // Separate streams, so that injecting faults or sending requests never changes the data.
    this.store = new FakeStore(new SeededRandom(seed));
    this.faults = new FaultInjector(new SeededRandom(seed ^ 0x5bd1e995));
    this.requestIds = new RequestIds(new SeededRandom(seed ^ 0x27d4eb2f));
    server.on("request", (req: IncomingMessage, res: ServerResponse) => this.receive(req, res));
  }

  static async start(options: FakeGitHubOptions = {}): Promise<FakeGitHub> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    return new FakeGitHub(server, `http://127.0.0.1:${port}`, options);
  }

  addUser(init: FakeUserInit): FakeUserHandle {
    this.forgetRendered();
    const user = this.store.addUser(init);
    return { id: user.id, login: user.login };
  }

  addRepo(ownerLogin: string, init: FakeRepoInit): FakeRepoHandle {
    this.forgetRendered();
    return this.repoHandle(this.store.addRepo(ownerLogin, init));
  }

  /** Changes what GitHub would answer (so the ETag changes) and moves updated_at forward. */
  updateRepo(ownerLogin: string, name: string, patch: Partial<FakeRepoInit>): void {
    this.store.updateRepo(ownerLogin, name, patch);
    this.forgetRendered();
  }

  /** The old name then answers 301 to /repositories/{id}. */
  renameRepo(ownerLogin: string, oldName: string, newName: string): void {
    this.store.renameRepo(ownerLogin, oldName, newName);
    this.forgetRendered();
  }

  /** The old full name then answers 301 to /repositories/{id}. */
  transferRepo(ownerLogin: string, name: string, newOwnerLogin: string): void {
    this.store.transferRepo(ownerLogin, name, newOwnerLogin);
    this.forgetRendered();
  }

  /** The old login then answers 404 (until addUser takes it); old repository paths answer 301. */
  renameUser(oldLogin: string, newLogin: string): void {
    this.store.renameUser(oldLogin, newLogin);
    this.forgetRendered();
  }

  deleteRepo(ownerLogin: string, name: string): void {
    this.store.deleteRepo(ownerLogin, name);
    this.forgetRendered();
  }

  deleteUser(login: string): void {
    this.store.deleteUser(login);
    this.forgetRendered();
  }

  injectFault(spec: FaultSpec): void {
    this.faults.add(spec);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  /**
   * Sets what remains of the anonymous and the authenticated window (capped at 60 and 5000).
   * Without `resetEpochSeconds` the current reset time stays; a reset time in the past makes
   * the next request start a fresh window, as on GitHub.
   */
  setRateLimit(remaining: number, resetEpochSeconds?: number): void {
    this.rateLimiter.set(remaining, resetEpochSeconds);
  }

  resetRequests(): void {
    this.requests.length = 0;
  }

  /** Stops listening and ends every connection, hung ones included. */
  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.pendingAnswers) clearTimeout(timer);
    this.pendingAnswers.clear();
    const stopped = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await stopped;
  }

  private repoHandle(repo: RepoRecord): FakeRepoHandle {
    const owner = this.store.userById(repo.ownerId);
    return { id: repo.id, name: repo.name, full_name: `${owner?.login}/${repo.name}` };
  }

  private receive(req: IncomingMessage, res: ServerResponse): void {
    const record: RecordedRequest = {
      method: req.method ?? "GET",
      path: req.url ?? "/",
      headers: { ...req.headers },
      status: 0,
      inFlightOnArrival: [],
    };
    this.unanswered.add(record);
    record.inFlightOnArrival = Array.from(this.unanswered, (request) => request.path);
    // A hung or reset request is no longer in flight once its connection is gone.
    res.on("close", () => this.unanswered.delete(record));
    this.requests.push(record);
    req.resume(); // GET bodies are ignored, but must be read for the connection to be reused
    if (this.latencyMs <= 0) {
      this.respond(req, res, record);
      return;
    }
    const timer = setTimeout(() => {
      this.pendingAnswers.delete(timer);
      this.respond(req, res, record);
    }, this.latencyMs);
    this.pendingAnswers.add(timer);
  }

  private respond(req: IncomingMessage, res: ServerResponse, record: RecordedRequest): void {
    if (this.closed || res.destroyed) return;
    try {
      // Concatenated rather than resolved, so that a path like `//x` stays a path.
      const url = new URL(`${this.url}${record.path}`);
      const fault = this.faults.take(url.pathname);
      if (fault) this.answerFault(fault, req, res, record, url);
      else this.send(res, record, this.answer(req, url));
    } catch (error) {
      // A bug in the fake must fail the test loudly, not look like a hang.
      this.send(res, record, {
        status: 500,
        headers: [["Content-Type", JSON_CONTENT_TYPE]],
        body: JSON.stringify({ message: `FakeGitHub failed: ${String(error)}` }),
      });
    }
  }

  private answer(req: IncomingMessage, url: URL): Answer {
    const ctx: BodyContext = {
      apiBase: this.url,
      authenticated: Boolean(req.headers.authorization),
    };
    const bucket = this.rateLimiter.bucket(ctx.authenticated);
    const common = { bucket, requestId: this.requestIds.next(), accept: req.headers.accept };
    if (bucket.remaining <= 0) {
      return {
        status: 403,
        headers: githubHeaders({ ...common, json: true }),
        body: JSON.stringify(rateLimitedBody(ctx.authenticated)),
      };
    }
    const resource =
      req.method === "GET" || req.method === "HEAD" ? this.render(url, ctx) : NOT_FOUND;
    if (resource.kind === "json") {
      const { body, etag } = resource;
      const validators = validatorHeaders(
        ctx.authenticated,
        etag,
        resource.lastModified,
        this.maxAgeSeconds,
      );
      if (isNotModified(req.headers, etag, resource.lastModified)) {
        // A 304 is free: GitHub does not count it against the rate limit (Branch_latest_sha).
        const { accept: _, ...withoutMediaType } = common;
        return { status: 304, headers: githubHeaders({ ...withoutMediaType, validators }) };
      }
      bucket.remaining--;
      return {
        status: 200,
        headers: githubHeaders({ ...common, json: true, validators, link: resource.link }),
        body,
      };
    }
    bucket.remaining--;
    if (resource.kind === "moved") {
      return {
        status: 301,
        headers: githubHeaders({ ...common, json: true, location: resource.location }),
        body: JSON.stringify(movedPermanentlyBody(resource.location)),
      };
    }
    return {
      status: 404,
      headers: githubHeaders({ ...common, json: true }),
      body: JSON.stringify(notFoundBody()),
    };
  }

  /**
   * The resource at `url` with its JSON and ETag, built once per state of the store: GitHub
   * serves repeated reads from its own caches, and building a page of 100 full repositories
   * costs the single-threaded fake milliseconds that would otherwise queue behind each other.
   * Every change to the store clears these.
   */
  private render(url: URL, ctx: BodyContext): Rendered {
    const key = `${ctx.authenticated}|${url.pathname}${url.search}`;
    const cached = this.rendered.get(key);
    if (cached) return cached;
    const resource = this.resolve(url, ctx);
    let rendered: Rendered;
    if (resource.kind === "json") {
      // Only the JSON is kept: the objects it was built from are about 7 KB per repository.
      const { body, ...described } = resource;
      const json = JSON.stringify(body);
      rendered = { ...described, body: Buffer.from(json), etag: etagFor(json) };
    } else {
      rendered = resource;
    }
    if (this.renderedBytes > RENDERED_BYTES_LIMIT) this.forgetRendered();
    this.renderedBytes += rendered.kind === "json" ? rendered.body.length : 0;
    this.rendered.set(key, rendered);
    return rendered;
  }

  private forgetRendered(): void {
    this.rendered.clear();
    this.renderedBytes = 0;
  }

  private resolve(url: URL, ctx: BodyContext): Resource {
    let segments: string[];
    try {
      segments = url.pathname.split("/").slice(1).map(decodeURIComponent);
    } catch {
      return NOT_FOUND;
    }
    const [root, first, second, ...rest] = segments;
    if (rest.length > 0 || first === undefined) return NOT_FOUND;
    if (root === "users" && second === undefined) return this.userResource(first, ctx);
    if (root === "users" && second === "repos") {
      const user = this.store.userByLogin(first);
      return user ? this.listingResource(user, url, ctx) : NOT_FOUND;
    }
    if (root === "user" && second === undefined) {
      const user = /^\d+$/.test(first) ? this.store.userById(Number(first)) : undefined;
      return user ? this.userResource(user.login, ctx) : NOT_FOUND;
    }
    if (root === "user" && second === "repos") {
      const user = /^\d+$/.test(first) ? this.store.userById(Number(first)) : undefined;
      return user ? this.listingResource(user, url, ctx) : NOT_FOUND;
    }
    if (root === "repos" && second !== undefined) return this.repoResource(first, second, ctx);
    if (root === "repositories" && second === undefined && /^\d+$/.test(first)) {
      const found = this.store.repoById(Number(first));
      return found ? this.fullRepository(found.repo, found.owner, ctx) : NOT_FOUND;
    }
    return NOT_FOUND;
  }

  private userResource(login: string, ctx: BodyContext): Resource {
    const user = this.store.userByLogin(login);
    if (!user) return NOT_FOUND;
    const publicRepos = this.store
      .reposOf(user.id)
      .filter((repo) => isVisible(repo, { ...ctx, authenticated: false })).length;
    return {
      kind: "json",
      body: publicUserBody(ctx, user, publicRepos),
      lastModified: user.updated_at,
    };
  }

  private listingResource(owner: UserRecord, url: URL, ctx: BodyContext): Resource {
    const query = url.searchParams;
    const perPage = Math.min(MAX_PER_PAGE, positiveInt(query.get("per_page")) ?? DEFAULT_PER_PAGE);
    const page = positiveInt(query.get("page")) ?? 1;
    // Only owned repositories exist here, so "member" (owned by others) is always empty.
    const repos =
      query.get("type") === "member"
        ? []
        : this.store.reposOf(owner.id).filter((repo) => isVisible(repo, ctx));
    sortRepositories(repos, query);
    const lastPage = Math.max(1, Math.ceil(repos.length / perPage));
    const items = repos
      .slice((page - 1) * perPage, page * perPage)
      .map((repo) => minimalRepositoryBody(ctx, repo, owner));
    // GitHub's page links name the account by id, so they survive a rename mid-pagination.
    const link = paginationLink(`${this.url}/user/${owner.id}/repos`, query, page, lastPage);
    return { kind: "json", body: items, ...(link ? { link } : {}) };
  }

  private repoResource(ownerLogin: string, name: string, ctx: BodyContext): Resource {
    const found = this.store.repoByFullName(ownerLogin, name);
    if (found === undefined) return NOT_FOUND;
    if (found.kind === "found") return this.fullRepository(found.repo, found.owner, ctx);
    const moved = this.store.repoById(found.repoId);
    // A private repository's old name must not reveal that it exists.
    if (!moved || !isVisible(moved.repo, ctx)) return NOT_FOUND;
    return { kind: "moved", location: `${this.url}/repositories/${found.repoId}` };
  }

  private fullRepository(repo: RepoRecord, owner: UserRecord, ctx: BodyContext): Resource {
    if (!isVisible(repo, ctx)) return NOT_FOUND;
    return {
      kind: "json",
      body: fullRepositoryBody(ctx, repo, owner),
      lastModified: repo.updated_at,
    };
  }

  private answerFault(
    fault: FaultSpec,
    req: IncomingMessage,
    res: ServerResponse,
    record: RecordedRequest,
    url: URL,
  ): void {
    const authenticated = Boolean(req.headers.authorization);
    const requestId = this.requestIds.next();
    const json = (status: number, body: unknown, extra: HeaderList = []): Answer => ({
      status,
      headers: [
        ["Server", "GitHub.com"],
        ["Content-Type", JSON_CONTENT_TYPE],
        ...extra,
        ["X-GitHub-Request-Id", requestId],
      ],
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
    switch (fault.kind) {
      case "hang":
        return; // close() ends the connection
      case "reset":
        req.socket.destroy();
        return;
      case "truncated":
        this.sendTruncated(res, record, this.answer(req, url));
        return;
      case "5xx-once":
      case "5xx-always":
        this.send(res, record, json(fault.status ?? 502, serverErrorBody()));
        return;
      case "malformed": {
        // Uncacheable on purpose: a client cache must not keep serving it after clearFaults().
        const bucket = this.rateLimiter.bucket(authenticated);
        if (bucket.remaining > 0) bucket.remaining--;
        const body = fault.body ?? '{"id": 1, "name": "malformed", "owner": {"login": ';
        this.send(res, record, json(200, body, rateLimitHeaders(bucket)));
        return;
      }
      case "rate-limit": {
        const bucket = this.rateLimiter.bucket(authenticated);
        const reset =
          fault.retryAfterSeconds !== undefined
            ? Math.floor(Date.now() / 1000) + fault.retryAfterSeconds
            : bucket.reset;
        const exhausted = { ...bucket, remaining: 0, reset };
        const status = fault.status ?? 403;
        this.send(
          res,
          record,
          json(status, rateLimitedBody(authenticated), rateLimitHeaders(exhausted)),
        );
        return;
      }
      case "secondary-rate-limit": {
        const bucket = this.rateLimiter.bucket(authenticated);
        const retryAfter = String(fault.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS);
        const headers: HeaderList = [["Retry-After", retryAfter], ...rateLimitHeaders(bucket)];
        const body = secondaryRateLimitedBody(requestId);
        this.send(res, record, json(fault.status ?? 403, body, headers));
        return;
      }
      case "redirect-loop": {
        const location = `${this.url}${record.path}`;
        this.send(res, record, json(301, movedPermanentlyBody(location), [["Location", location]]));
        return;
      }
      case "redirect-away": {
        const location = fault.location ?? "http://127.0.0.1:9/elsewhere";
        this.send(res, record, json(301, movedPermanentlyBody(location), [["Location", location]]));
        return;
      }
      case "inflated-link": {
        const answer = this.answer(req, url);
        const last = new URL(url);
        last.searchParams.set("page", String(fault.lastPage ?? 100_000));
        const next = new URL(url);
        next.searchParams.set("page", String(Number(url.searchParams.get("page") ?? 1) + 1));
        const link = `<${next}>; rel="next", <${last}>; rel="last"`;
        const headers = answer.headers.filter(([name]) => name.toLowerCase() !== "link");
        this.send(res, record, { ...answer, headers: [...headers, ["Link", link]] });
        return;
      }
      case "oversized": {
        const bytes = fault.bytes ?? 50 * 1024 * 1024;
        const body = `[${"0,".repeat(Math.max(0, Math.floor((bytes - 3) / 2)))}0]`;
        this.send(res, record, json(200, body));
        return;
      }
    }
  }

  private send(res: ServerResponse, record: RecordedRequest, answer: Answer): void {
    record.status = answer.status;
    this.unanswered.delete(record);
    const headers = answer.headers.flat();
    if (answer.body !== undefined) {
      headers.push("Content-Length", String(Buffer.byteLength(answer.body)));
    }
    res.writeHead(answer.status, headers);
    res.end(answer.body);
  }

  /** Declares the whole body, sends half of it, then drops the connection. */
  private sendTruncated(res: ServerResponse, record: RecordedRequest, answer: Answer): void {
    record.status = answer.status;
    this.unanswered.delete(record);
    const body = Buffer.from(answer.body ?? "");
    const declared = Math.max(body.length, 1);
    res.writeHead(answer.status, [...answer.headers.flat(), "Content-Length", String(declared)]);
    res.write(body.subarray(0, Math.floor(body.length / 2)), () => res.socket?.destroy());
  }
}
