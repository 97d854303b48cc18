import type { FastifyBaseLogger } from "fastify";
import type { RefreshKind, RepositoryStore } from "../db/repository-store.js";
import { GitHubRateLimitError } from "../github/errors.js";
import type { Budget } from "../observability/github-traffic.js";
import type { RepositoryService } from "../repositories/service.js";

export type RefreshResult = "refreshed" | "removed" | "failed";

/** What a round did, for the metrics and the log. */
export interface RefreshCounts {
  round(): void;
  row(kind: RefreshKind, result: RefreshResult): void;
}

export interface RefresherOptions {
  /** Rows older than this are refreshed. */
  intervalS: number;
  /** Share of GitHub's primary limit refreshing leaves to callers. */
  reserve: number;
  service: RepositoryService;
  store: RepositoryStore;
  /** GitHub's budget as its latest answer stated it. */
  budget: () => Budget | undefined;
  log: FastifyBaseLogger;
  counts?: RefreshCounts;
}

// Rows claimed at once: a replica holds no more than it is about to refresh.
const BATCH = 5;
// How long a claim holds a row: far beyond one row's refresh (a listing is bounded by its pages'
// GitHub timeouts), so another replica never takes a row still being refreshed; a replica that
// died holding claims leaves those rows for this long.
const LEASE_S = 300;
const KINDS: RefreshKind[] = ["account", "repository"];

/**
 * Keeps the local copy fresh: every round claims the rows due a refresh, oldest first, and
 * saves each again from GitHub, one at a time (GitHub asks integrations not to burst). Its
 * requests go through the GitHub cache like every other, so they are conditional and an
 * unchanged answer is a 304, which costs no rate limit. A round stops while GitHub's remaining
 * budget is below the reserve, and after a rate limit until GitHub's reset. Failures are logged
 * and the row is left for the next round; nothing here ever throws into the process.
 */
export class Refresher {
  private readonly stopped = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  /** Epoch milliseconds before which no refresh request goes out. */
  private pausedUntil = 0;

  constructor(private readonly options: RefresherOptions) {}

  /** Time between the starts of two rounds: a row is refreshed within this of falling due. */
  get tickMs(): number {
    return Math.min(60_000, Math.max(1_000, (this.options.intervalS * 1000) / 10));
  }

  start(): void {
    this.schedule(0);
  }

  /** Stops the rounds; a refresh in flight is cancelled or, once it is writing, finished. */
  async stop(): Promise<void> {
    this.stopped.abort();
    clearTimeout(this.timer);
    await this.running;
  }

  /** One round: every due row, unless the budget or a stop ends it first. */
  async runRound(): Promise<void> {
    this.options.counts?.round();
    // Rows that failed stay claimed until the round ends, so the round goes on past them
    // instead of taking them again; the next round may.
    const failed: Array<[RefreshKind, number]> = [];
    try {
      for (const kind of KINDS) await this.refreshDue(kind, failed);
    } catch (error) {
      // Claiming failed (the database away); the rows stay due for the next round.
      this.options.log.warn({ reason: (error as Error).message }, "refresh round failed");
    } finally {
      for (const [kind, id] of failed) {
        await this.options.store.releaseClaim(kind, id).catch(() => {});
      }
    }
  }

  private schedule(delayMs: number) {
    if (this.stopped.signal.aborted) return;
    this.timer = setTimeout(() => {
      this.running = this.runRound().finally(() => this.schedule(this.tickMs));
    }, delayMs);
    // A pending round never keeps the process alive.
    this.timer.unref();
  }

  private async refreshDue(kind: RefreshKind, failed: Array<[RefreshKind, number]>) {
    const { store, intervalS } = this.options;
    while (this.mayGoOn()) {
      const ids = await store.claimDue(kind, {
        olderThanS: intervalS,
        leaseS: LEASE_S,
        limit: BATCH,
      });
      if (ids.length === 0) return;
      for (const id of ids) {
        if (this.mayGoOn() && (await this.refreshOne(kind, id)) === "failed") {
          failed.push([kind, id]);
        } else {
          // Refreshed (no longer due for an interval), or not tried: given back at once.
          await store.releaseClaim(kind, id).catch(() => {});
        }
      }
    }
  }

  /** One row's refresh; undefined when it was cancelled by a stop. */
  private async refreshOne(kind: RefreshKind, id: number): Promise<RefreshResult | undefined> {
    const { service, log, counts } = this.options;
    const signal = this.stopped.signal;
    let result: RefreshResult;
    try {
      const outcome =
        kind === "account"
          ? await service.refreshAccount(id, signal)
          : await service.refreshRepository(id, signal);
      result = outcome === "removed" ? "removed" : "refreshed";
      if (result === "removed")
        log.info({ kind, id }, "refresh removed a row GitHub no longer has");
    } catch (error) {
      if (signal.aborted) return undefined;
      result = "failed";
      if (error instanceof GitHubRateLimitError) {
        this.pausedUntil = Date.now() + error.retryAfterSeconds * 1000;
      }
      log.warn({ kind, id, reason: (error as Error).message }, "refresh failed");
    }
    counts?.row(kind, result);
    return result;
  }

  /** False once stopped, and while GitHub's budget is at the reserve or limited. */
  private mayGoOn(): boolean {
    if (this.stopped.signal.aborted) return false;
    const now = Date.now();
    if (now < this.pausedUntil) return false;
    const budget = this.options.budget();
    if (budget === undefined || budget.reset * 1000 <= now) return true;
    if (budget.remaining >= this.options.reserve * budget.limit) return true;
    this.pausedUntil = budget.reset * 1000;
    this.options.log.info(
      { remaining: budget.remaining, limit: budget.limit, until: new Date(this.pausedUntil) },
      "refreshing paused: GitHub's remaining budget is below REFRESH_RESERVE",
    );
    return false;
  }
}
