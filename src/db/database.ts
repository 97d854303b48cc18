import { join } from "node:path";
import { PGlite, type PGliteOptions } from "@electric-sql/pglite";
import { sql } from "drizzle-orm";
import { drizzle as drizzleNodePg } from "drizzle-orm/node-postgres";
import { migrate as migrateNodePg } from "drizzle-orm/node-postgres/migrator";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import pg from "pg";
import { PROJECT_ROOT } from "../project-root.js";
import { PGLITE_TEMPLATE, TemplateNodeFS } from "./pglite-template.js";
import * as schema from "./schema.js";

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

/** The service's database, whichever engine is behind it. */
export interface Database {
  readonly kind: "postgres" | "pglite";
  readonly db: Db;
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  /** Applies pending migrations from ./drizzle; safe to run from several processes at once. */
  migrate(): Promise<void>;
  close(): Promise<void>;
  /** The connection pool's state, for metrics; only Postgres has a pool. */
  readonly pool?: () => PoolState;
}

export interface PoolState {
  /** Connections checked out by a query or a transaction. */
  inUse: number;
  idle: number;
  /** Queries waiting for a connection. */
  waiting: number;
}

export interface DatabaseOptions {
  /** A postgres:// URL; without it the embedded PGlite is used. */
  url?: string | undefined;
  /** PGlite's data directory; "memory://" keeps it in memory. */
  dataDir?: string;
  /**
   * A tarball of an initialised, empty cluster that a new PGlite data directory starts from;
   * by default the one `npm run build` writes. Without a usable one, PGlite runs initdb.
   */
  pgliteTemplate?: string;
  /** Bound for getting a connection and for one query, so an unreachable database fails fast. */
  timeoutMs?: number;
  onPoolError?: (error: Error) => void;
}

/** drizzle-kit's versioned SQL migrations, applied at start-up. */
export const MIGRATIONS_FOLDER = join(PROJECT_ROOT, "drizzle");

// Any constant works; it only has to be the same in every replica of this service.
const MIGRATION_LOCK_KEY = 7_245_101;
const CLOSE_BOUND_MS = 5_000;

function openPostgres(url: string, options: DatabaseOptions): Database {
  const timeoutMs = options.timeoutMs ?? 3_000;
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
  });
  // An idle connection that drops emits here; unhandled, it would end the process.
  pool.on("error", (error) => options.onPoolError?.(error));
  // The pool listens only to idle clients; a client checked out for a transaction whose
  // connection drops would emit "error" with no listener, an uncaught exception that ends the
  // process. The failure still reaches the caller: the query in flight, or the next one, rejects.
  pool.on("connect", (client) => client.on("error", () => {}));
  const db = drizzleNodePg(pool, { schema });
  return {
    kind: "postgres",
    db,
    pool: () => ({
      inUse: pool.totalCount - pool.idleCount,
      idle: pool.idleCount,
      waiting: pool.waitingCount,
    }),
    async ping() {
      await pool.query("select 1");
    },
    async migrate() {
      // Replicas starting together take turns, so no two apply the same migration.
      const client = await pool.connect();
      try {
        await client.query("select pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
        await migrateNodePg(db, { migrationsFolder: MIGRATIONS_FOLDER });
      } finally {
        await client.query("select pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]).catch(() => {});
        client.release();
      }
    },
    async close() {
      // pool.end() waits for every checked-out client. On Node 26, after a connection was cut
      // inside a transaction, one client was seen never to be released (1 run in 4 of
      // test/reliability/database-faults.test.ts), which held a shutdown forever; the bound
      // lets the process end anyway. The timer is unref'd so a clean close does not wait it out.
      await Promise.race([
        pool.end(),
        new Promise((resolve) => setTimeout(resolve, CLOSE_BOUND_MS).unref()),
      ]);
    },
  };
}

function openPglite(dataDir: string, template: string): Database {
  const options: PGliteOptions = {
    // The buffer pool is allocated and zeroed in full inside this process's WebAssembly memory:
    // with 4 MB, 17 MB of that memory was resident at start; with 16 MB, 29 MB; PGlite's default
    // of 128 MB would hold far more. A page missing from the pool is read from the data
    // directory through the operating system's page cache. In the bench, listings of 1,000 and
    // 5,000 saved repositories were as fast with 4 MB as with 16 MB.
    postgresqlconf: ["shared_buffers = 4MB"],
  };
  // A plain path is a directory on disk, which a first start fills from the template; memory://,
  // other schemes and "" (memory to PGlite) go to PGlite as they are.
  const client =
    dataDir === "" || dataDir.includes("://")
      ? new PGlite(dataDir, options)
      : new PGlite(dataDir, { ...options, fs: new TemplateNodeFS(dataDir, template, options) });
  const db = drizzlePglite(client, { schema });
  return {
    kind: "pglite",
    db,
    async ping() {
      await db.execute(sql`select 1`);
    },
    async migrate() {
      await migratePglite(db, { migrationsFolder: MIGRATIONS_FOLDER });
    },
    async close() {
      await client.close();
    },
  };
}

export function openDatabase(options: DatabaseOptions): Database {
  if (options.url) return openPostgres(options.url, options);
  return openPglite(options.dataDir ?? "memory://", options.pgliteTemplate ?? PGLITE_TEMPLATE);
}
