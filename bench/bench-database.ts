import { randomBytes } from "node:crypto";
import { PGlite } from "@electric-sql/pglite";
import type { Logger } from "drizzle-orm";
import { drizzle as drizzleNodePg } from "drizzle-orm/node-postgres";
import { migrate as migrateNodePg } from "drizzle-orm/node-postgres/migrator";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import pg from "pg";
import { type Db, MIGRATIONS_FOLDER } from "../src/db/database.js";
import type { RepositoryRecord } from "../src/db/repository-store.js";
import * as schema from "../src/db/schema.js";

const INSERT_BATCH = 500;

export interface LoggedQuery {
  sql: string;
  params: unknown[];
}

/**
 * The service's schema opened in the bench's own process, with every statement drizzle sends
 * recorded: to load saved repositories in bulk, to see the exact SQL the store issues, and to
 * run EXPLAIN on it. Only used while the service is not running on the same PGlite directory.
 */
export interface BenchDatabase {
  db: Db;
  queries: LoggedQuery[];
  /** Runs raw SQL with parameters and returns its rows. */
  raw(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

function recorder(queries: LoggedQuery[]): Logger {
  return { logQuery: (sql, params) => queries.push({ sql, params }) };
}

export async function openBenchDatabase(
  target: { kind: "pglite"; dataDir: string } | { kind: "postgres"; url: string },
): Promise<BenchDatabase> {
  const queries: LoggedQuery[] = [];
  if (target.kind === "pglite") {
    const client = new PGlite(target.dataDir);
    const db = drizzlePglite(client, { schema, logger: recorder(queries) });
    await migratePglite(db, { migrationsFolder: MIGRATIONS_FOLDER });
    return {
      db: db as unknown as Db,
      queries,
      raw: async (sql, params) => (await client.query<Record<string, unknown>>(sql, params)).rows,
      close: () => client.close(),
    };
  }
  const pool = new pg.Pool({ connectionString: target.url, max: 2 });
  const db = drizzleNodePg(pool, { schema, logger: recorder(queries) });
  await migrateNodePg(db, { migrationsFolder: MIGRATIONS_FOLDER });
  return {
    db: db as unknown as Db,
    queries,
    raw: async (sql, params) => (await pool.query(sql, params)).rows,
    close: () => pool.end(),
  };
}

export interface SavedAccount {
  user: { id: number; login: string };
  repositories: RepositoryRecord[];
}

/** Inserts accounts and their repositories as if each repository had been saved through the API. */
export async function insertAccounts(db: Db, accounts: SavedAccount[]): Promise<void> {
  for (const { user, repositories } of accounts) {
    await db.insert(schema.users).values({
      id: user.id,
      login: user.login,
      type: "User",
      htmlUrl: `https://github.com/${user.login}`,
    });
    for (let start = 0; start < repositories.length; start += INSERT_BATCH) {
      await db
        .insert(schema.repositories)
        .values(
          repositories
            .slice(start, start + INSERT_BATCH)
            .map((repository) => ({ ...repository, userId: user.id })),
        );
    }
  }
}

/** A fresh database on the Postgres server behind `adminUrl`, and the means to drop it. */
export async function createPostgresDatabase(
  adminUrl: string,
): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const name = `bench_${randomBytes(6).toString("hex")}`;
  await withAdmin(adminUrl, (client) => client.query(`create database ${name}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: async () => {
      await withAdmin(adminUrl, (client) =>
        client.query(`drop database if exists ${name} with (force)`),
      );
    },
  };
}

export async function withAdmin<T>(
  adminUrl: string,
  task: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return await task(client);
  } finally {
    await client.end();
  }
}

/** Transactions committed in database `name` so far, as Postgres's statistics show them. */
export async function committedTransactions(adminUrl: string, name: string): Promise<number> {
  return withAdmin(adminUrl, async (client) => {
    const { rows } = await client.query(
      "select xact_commit::bigint as n from pg_stat_database where datname = $1",
      [name],
    );
    return Number(rows[0]?.n ?? Number.NaN);
  });
}
