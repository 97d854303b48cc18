import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { Database } from "../db/database.js";
import type { RefreshKind } from "../db/repository-store.js";
import type { GitHubCache } from "../github/cache.js";
import type { RefreshCounts, RefreshResult } from "../refresh/refresher.js";
import { GitHubTraffic } from "./github-traffic.js";

export interface MetricsOptions {
  githubApiUrl: string;
  database: Database;
  cache: GitHubCache;
}

/** The seconds an answer may take, from a repeated details request to a cold 5,000-repo listing. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * Everything `/metrics` shows, in a registry of this app's own: two apps in one process (the
 * tests, the bench) never count into each other.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly github: GitHubTraffic;
  readonly httpDuration: Histogram<"method" | "route" | "status_class">;

  constructor({ githubApiUrl, database, cache }: MetricsOptions) {
    collectDefaultMetrics({ register: this.registry });
    this.github = new GitHubTraffic(githubApiUrl, this.registry);
    this.httpDuration = new Histogram({
      name: "http_request_duration_seconds",
      help: "Time to answer a request to this API, by route pattern and status class",
      labelNames: ["method", "route", "status_class"],
      buckets: DURATION_BUCKETS,
      registers: [this.registry],
    });
    const pool = database.pool;
    if (pool) {
      new Gauge({
        name: "db_pool_connections",
        help: "Database connections by state",
        labelNames: ["state"],
        registers: [this.registry],
        collect() {
          const state = pool();
          this.set({ state: "in_use" }, state.inUse);
          this.set({ state: "idle" }, state.idle);
        },
      });
      new Gauge({
        name: "db_pool_waiting",
        help: "Queries waiting for a database connection",
        registers: [this.registry],
        collect() {
          this.set(pool().waiting);
        },
      });
    }
    // The cache counts for itself; a scrape reads its counts.
    new Counter({
      name: "github_cache_lookups_total",
      help: "Lookups of GitHub answers: hit (fresh, nothing sent), revalidated (a 304 reused the kept answer), miss (GitHub sent a new answer)",
      labelNames: ["result"],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [result, count] of Object.entries(cache.stats().lookups)) {
          this.inc({ result }, count);
        }
      },
    });
    new Counter({
      name: "github_cache_store_errors_total",
      help: "Cache store operations that failed or timed out (Redis away or slow); each was answered as a miss",
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(cache.stats().storeErrors);
      },
    });
    new Gauge({
      name: "github_cache_store_up",
      help: "0 while the cache's store fails (Redis away), 1 otherwise",
      labelNames: ["store"],
      registers: [this.registry],
      collect() {
        this.reset();
        this.set({ store: cache.store.kind }, cache.stats().storeDown ? 0 : 1);
      },
    });
    // After the pool's gauges: their readings must not count this ping's connection.
    new Gauge({
      name: "database_up",
      help: "1 when the database answered a trivial query at this scrape, 0 otherwise",
      registers: [this.registry],
      async collect() {
        this.set(
          await database.ping().then(
            () => 1,
            () => 0,
          ),
        );
      },
    });
  }

  /** The refresher's rounds and rows, by kind and result. */
  readonly refresh: RefreshCounts = (() => {
    const rounds = new Counter({
      name: "refresh_rounds_total",
      help: "Refresh rounds started (REFRESH_INTERVAL_S)",
      registers: [this.registry],
    });
    const rows = new Counter({
      name: "refresh_rows_total",
      help: "Saved rows the refresher handled, by kind (account, repository) and result (refreshed, removed because GitHub no longer has it, failed)",
      labelNames: ["kind", "result"],
      registers: [this.registry],
    });
    return {
      round: () => rounds.inc(),
      row: (kind: RefreshKind, result: RefreshResult) => rows.inc({ kind, result }),
    };
  })();

  close() {
    this.github.close();
  }
}
