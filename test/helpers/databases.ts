import { randomBytes } from "node:crypto";
import { type SQL, sql } from "drizzle-orm";
import pg from "pg";
import { type Database, openDatabase } from "../../src/db/database.js";

/**
 * The real Postgres the suite runs against besides PGlite. Under vitest, test/setup/servers.ts
 * has set TEST_DATABASE_URL before any test file loads: the URL it was given, the server on
 * 127.0.0.1:5432, or an embedded Postgres it started (docs/testing.md, "Servers the tests need").
 * Scripts run outside vitest (bench/) read the same variable, or use the local server. Each test
 * file gets its own database.
 */
export const POSTGRES_ADMIN_URL =
  process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export type Backend = "pglite" | "postgres";
export const BACKENDS: Backend[] = ["pglite", "postgres"];

export interface TestDatabase {
  database: Database;
  /** The postgres:// URL of this database; undefined for PGlite. */
  url: string | undefined;
  dispose(): Promise<void>;
}

async function withAdmin<T>(task: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({
    connectionString: POSTGRES_ADMIN_URL,
    connectionTimeoutMillis: 5_000,
  });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(
      `The Postgres tests cannot reach ${new URL(POSTGRES_ADMIN_URL).host}: set TEST_DATABASE_URL, start Postgres on 127.0.0.1:5432, or run under vitest, which starts one when neither answers (${(error as Error).message})`,
    );
  }
  try {
    return await task(client);
  } finally {
    await client.end();
  }
}

/** Creates an empty Postgres database and returns its URL. */
export async function createPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `test_${randomBytes(6).toString("hex")}`;
  await withAdmin((client) => client.query(`create database ${name}`));
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      await withAdmin((client) => client.query(`drop database if exists ${name} with (force)`));
    },
  };
}

/** Runs a query on either backend and returns its rows; both drivers answer with `rows`. */
export async function queryRows(
  database: Database,
  query: SQL,
): Promise<Record<string, unknown>[]> {
  const result = (await database.db.execute(query)) as unknown as {
    rows: Record<string, unknown>[];
  };
  return result.rows;
}

/** When the account was last saved whole (`user.listed_at`), in epoch milliseconds; NaN if never. */
export async function listedAtMs(database: Database, accountId: number): Promise<number> {
  const [row] = await queryRows(
    database,
    sql`select (extract(epoch from listed_at) * 1000)::float8 as ms from "user" where id = ${accountId}`,
  );
  return Number(row?.ms);
}

/** A migrated, empty database of the given backend. */
export async function openTestDatabase(backend: Backend): Promise<TestDatabase> {
  if (backend === "pglite") {
    const database = openDatabase({ dataDir: "memory://" });
    await database.migrate();
    return { database, url: undefined, dispose: () => database.close() };
  }
  const created = await createPostgresDatabase();
  const database = openDatabase({ url: created.url });
  await database.migrate();
  return {
    database,
    url: created.url,
    async dispose() {
      await database.close();
      await created.drop();
    },
  };
}
