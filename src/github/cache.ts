import { createHash } from "node:crypto";
import CachePolicy from "http-cache-semantics";
import type { Redis } from "ioredis";

/**
 * The one cache of GitHub's answers. What it keeps is the checked, compact value the service
 * reads (never GitHub's raw body), with the ETag that lets a stale answer be revalidated: a 304
 * costs GitHub's rate limit nothing. Freshness is GitHub's own `Cache-Control`, read by
 * http-cache-semantics. Identical lookups in flight share one upstream call. Entries are kept
 * per token, under a hash of it. The store is memory (bounded by bytes) or Redis (shared by
 * replicas, kept across restarts); a store that fails is treated as empty, never as an error.
 */

/** One answer as kept: its value, and what a conditional request and a listing need of it. */
export interface CachedAnswer<T> {
  readonly value: T;
  readonly etag?: string | undefined;
  /** GitHub's `Link`: a listing's first page says with it how many pages follow. */
  readonly link?: string | undefined;
  /** Kept because GitHub may leave it out of a 304. */
  readonly cacheControl?: string | undefined;
  /** Epoch milliseconds until which the answer is used without asking GitHub. */
  readonly freshUntil: number;
}

type Headers = Record<string, string | string[] | undefined>;

/** What a fetch from GitHub came back with: a new value, or a 304 for the kept one. */
export type Fetched<T> =
  | { notModified: false; value: T; headers: Headers }
  | { notModified: true; headers: Headers };

/**
 * Asks GitHub, conditionally on `kept`'s ETag when there is one; `signal` aborts once every
 * caller waiting for the answer has gone.
 */
export type Fetcher<T> = (
  kept: CachedAnswer<T> | undefined,
  signal: AbortSignal,
) => Promise<Fetched<T>>;

/** A lookup in flight, shared by identical callers until the last of them leaves. */
interface Flight {
  answer: Promise<CachedAnswer<unknown>>;
  callers: number;
  /**
   * Made only when GitHub is asked, or when the last caller leaves before: a fresh answer from
   * the store, the most common lookup, then costs no AbortSignal.
   */
  abandon?: AbortController;
}

function abandonOf(flight: Flight): AbortController {
  flight.abandon ??= new AbortController();
  return flight.abandon;
}

export interface CacheStore {
  readonly kind: "memory" | "redis";
  get(key: string): Promise<CachedAnswer<unknown> | undefined>;
  /** Keeps `answer` for `ttlMs`, past its freshness, so that it can still be revalidated. */
  set(key: string, answer: CachedAnswer<unknown>, ttlMs: number): Promise<void>;
}

export interface CacheLog {
  warn(details: object, message: string): void;
  info(details: object, message: string): void;
}

export type LookupResult = "hit" | "revalidated" | "miss";

export interface CacheStats {
  lookups: Record<LookupResult, number>;
  storeErrors: number;
  /** Whether the last store operation failed. */
  storeDown: boolean;
}

// A stale answer is worth keeping while its ETag may still match: revalidating it costs no
// rate limit, where asking afresh costs one request.
const KEEP_FOR_REVALIDATION_MS = 24 * 60 * 60 * 1000;
const REQUEST = { method: "GET", url: "/", headers: {} };
// GitHub marks answers to a token `private`, which a shared cache may not keep; this one keeps
// them per token.
const PRIVATE_CACHE = { shared: false };

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The response headers http-cache-semantics reads, as one string per name. */
function policyHeaders(headers: Headers): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const name of ["cache-control", "etag", "date", "age", "expires", "pragma"]) {
    const value = header(headers, name);
    if (value !== undefined) picked[name] = value;
  }
  return picked;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** The scope of a token's entries: the first 16 hex digits of its SHA-256, never the token. */
export function tokenScope(token: string | undefined): string {
  if (token === undefined) return "anonymous";
  return createHash("sha256").update(token).digest("hex").slice(0, 16);
}

export class GitHubCache {
  private readonly inFlight = new Map<string, Flight>();
  private readonly scope: string;
  private readonly log: CacheLog | undefined;
  private readonly counts: CacheStats = {
    lookups: { hit: 0, revalidated: 0, miss: 0 },
    storeErrors: 0,
    storeDown: false,
  };

  constructor(
    readonly store: CacheStore,
    options: { token?: string | undefined; log?: CacheLog | undefined } = {},
  ) {
    this.scope = tokenScope(options.token);
    this.log = options.log;
  }

  /**
   * The answer for `path` (relative to GitHub's API base): fresh from the store, or from
   * `fetch`, conditionally when a stale answer is kept. Values handed out are frozen, since a
   * value kept in memory is shared by every caller. A caller whose `signal` aborts stops
   * waiting; when no caller is left, the fetch itself is aborted.
   */
  get<T>(path: string, fetch: Fetcher<T>, signal?: AbortSignal): Promise<CachedAnswer<T>> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const key = `github:v1:${this.scope}:${path}`;
    let flight = this.inFlight.get(key);
    if (flight === undefined) {
      // lookup() reads the signal only after its first await, once `started` is set.
      let started: Flight;
      const answer = this.lookup(key, fetch as Fetcher<unknown>, () => abandonOf(started).signal);
      started = {
        callers: 0,
        answer: answer.finally(() => {
          if (this.inFlight.get(key) === started) this.inFlight.delete(key);
        }),
      };
      this.inFlight.set(key, started);
      flight = started;
    }
    return this.wait(key, flight, signal) as Promise<CachedAnswer<T>>;
  }

  private wait(key: string, flight: Flight, signal: AbortSignal | undefined) {
    flight.callers++;
    // A caller that cannot leave keeps the lookup alive to the end.
    if (signal === undefined) return flight.answer;
    return new Promise<CachedAnswer<unknown>>((resolve, reject) => {
      const leave = () => {
        reject(signal.reason);
        flight.callers--;
        if (flight.callers > 0) return;
        if (this.inFlight.get(key) === flight) this.inFlight.delete(key);
        abandonOf(flight).abort(signal.reason);
      };
      signal.addEventListener("abort", leave, { once: true });
      flight.answer.then(
        (answer) => {
          signal.removeEventListener("abort", leave);
          resolve(answer);
        },
        (error: unknown) => {
          signal.removeEventListener("abort", leave);
          reject(error);
        },
      );
    });
  }

  stats(): CacheStats {
    return { ...this.counts, lookups: { ...this.counts.lookups } };
  }

  private async lookup(
    key: string,
    fetch: Fetcher<unknown>,
    abandoned: () => AbortSignal,
  ): Promise<CachedAnswer<unknown>> {
    const kept = await this.storeGet(key);
    if (kept !== undefined && kept.freshUntil > Date.now()) {
      this.counts.lookups.hit++;
      return kept;
    }
    const fetched = await fetch(kept, abandoned());
    let policy: CachePolicy;
    let answer: CachedAnswer<unknown>;
    if (fetched.notModified) {
      if (kept === undefined) throw new Error("A 304 came back for an answer that is not kept");
      const previous = new CachePolicy(
        REQUEST,
        {
          status: 200,
          headers: policyHeaders({ "cache-control": kept.cacheControl, etag: kept.etag }),
        },
        PRIVATE_CACHE,
      );
      // The 304 answered our If-None-Match, so it stands for the kept ETag even if it names none.
      policy = previous.revalidatedPolicy(REQUEST, {
        status: 304,
        headers: policyHeaders({ etag: kept.etag, ...fetched.headers }),
      }).policy;
      answer = {
        ...kept,
        cacheControl: header(fetched.headers, "cache-control") ?? kept.cacheControl,
        freshUntil: Date.now() + policy.timeToLive(),
      };
      this.counts.lookups.revalidated++;
    } else {
      policy = new CachePolicy(
        REQUEST,
        { status: 200, headers: policyHeaders(fetched.headers) },
        PRIVATE_CACHE,
      );
      answer = {
        value: fetched.value,
        etag: header(fetched.headers, "etag"),
        link: header(fetched.headers, "link"),
        cacheControl: header(fetched.headers, "cache-control"),
        freshUntil: Date.now() + policy.timeToLive(),
      };
      this.counts.lookups.miss++;
    }
    deepFreeze(answer);
    if (policy.storable()) {
      await this.storeSet(key, answer, policy.timeToLive() + KEEP_FOR_REVALIDATION_MS);
    }
    return answer;
  }

  private async storeGet(key: string): Promise<CachedAnswer<unknown> | undefined> {
    try {
      const answer = await this.store.get(key);
      this.storeAnswered();
      return answer === undefined ? undefined : deepFreeze(answer);
    } catch (error) {
      this.storeFailed(error);
      return undefined;
    }
  }

  private async storeSet(key: string, answer: CachedAnswer<unknown>, ttlMs: number) {
    try {
      await this.store.set(key, answer, ttlMs);
      this.storeAnswered();
    } catch (error) {
      this.storeFailed(error);
    }
  }

  /** Logs once per outage, not once per request. */
  private storeFailed(error: unknown) {
    this.counts.storeErrors++;
    if (this.counts.storeDown) return;
    this.counts.storeDown = true;
    this.log?.warn(
      { store: this.store.kind, reason: (error as Error).message },
      "GitHub cache unavailable: answering from GitHub without it",
    );
  }

  private storeAnswered() {
    if (!this.counts.storeDown) return;
    this.counts.storeDown = false;
    this.log?.info({ store: this.store.kind }, "GitHub cache available again");
  }
}

interface MemoryEntry {
  answer: CachedAnswer<unknown>;
  bytes: number;
  expiresAt: number;
}

/**
 * Answers kept in this process, bounded by the bytes of their JSON form; the least recently
 * used go first. Values are kept as objects, so a hit costs no parsing.
 */
export class MemoryStore implements CacheStore {
  readonly kind = "memory";
  private readonly entries = new Map<string, MemoryEntry>();
  private bytes = 0;

  constructor(private readonly maxBytes = 32 * 1024 * 1024) {}

  get size(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.bytes };
  }

  async get(key: string): Promise<CachedAnswer<unknown> | undefined> {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.delete(key);
    if (entry.expiresAt <= Date.now()) return undefined;
    // Re-inserting moves the key to the end, so the first key is always the least recent.
    this.insert(key, entry);
    return entry.answer;
  }

  async set(key: string, answer: CachedAnswer<unknown>, ttlMs: number): Promise<void> {
    this.delete(key);
    const bytes = key.length + JSON.stringify(answer).length;
    if (bytes > this.maxBytes) return;
    this.insert(key, { answer, bytes, expiresAt: Date.now() + ttlMs });
    for (const oldest of this.entries.keys()) {
      if (this.bytes <= this.maxBytes) break;
      this.delete(oldest);
    }
  }

  private insert(key: string, entry: MemoryEntry) {
    this.entries.set(key, entry);
    this.bytes += entry.bytes;
  }

  private delete(key: string) {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.entries.delete(key);
    this.bytes -= entry.bytes;
  }
}

/** Answers in Redis, as JSON with an expiry: shared by every replica, kept across restarts. */
export class RedisStore implements CacheStore {
  readonly kind = "redis";

  /** `redis` is opened and closed by the caller (see src/redis.ts), who may share it. */
  constructor(private readonly redis: Redis) {}

  async get(key: string): Promise<CachedAnswer<unknown> | undefined> {
    const text = await this.redis.get(key);
    return text === null ? undefined : (JSON.parse(text) as CachedAnswer<unknown>);
  }

  async set(key: string, answer: CachedAnswer<unknown>, ttlMs: number): Promise<void> {
    await this.redis.set(key, JSON.stringify(answer), "PX", Math.max(1, Math.ceil(ttlMs)));
  }
}
