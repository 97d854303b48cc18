import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { sql } from "drizzle-orm";
import { drizzle as drizzleNodePg } from "drizzle-orm/node-postgres";
import { migrate as migrateNodePg } from "drizzle-orm/node-postgres/migrator";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, MIGRATIONS_FOLDER, openDatabase } from "../../src/db/database.js";
import { RepositoryStore } from "../../src/db/repository-store.js";
import { BACKENDS, createPostgresDatabase, queryRows } from "../helpers/databases.js";

/** The migrations folder as it was before `tag`: its journal cut just before that entry. */
async function migrationsBefore(tag: string): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), "migrations-"));
  await cp(MIGRATIONS_FOLDER, folder, { recursive: true });
  const journalPath = join(folder, "meta", "_journal.json");
  const journal = JSON.parse(await readFile(journalPath, "utf8"));
  const cut = journal.entries.findIndex((entry: { tag: string }) => entry.tag === tag);
  expect(cut).toBeGreaterThan(0);
  journal.entries = journal.entries.slice(0, cut);
  await writeFile(journalPath, JSON.stringify(journal));
  return folder;
}

type AnyDb = PgDatabase<PgQueryResultHKT, Record<string, never>>;

/** Rows as the schema before whole-account saves held them: watchers known, no listed_at. */
async function fillPreviousSchema(db: AnyDb) {
  await db.execute(sql`
    insert into "user" (id, login, type, html_url, synced_at, listing_version)
    values (1, 'alice', 'User', 'https://github.com/alice', '2026-01-02T03:04:05Z', 42)`);
  await db.execute(sql`
    insert into repository (id, user_id, name, full_name, html_url, visibility, created_at,
      updated_at, size, stars, watchers, synced_at)
    values (10, 1, 'tool', 'alice/tool', 'https://github.com/alice/tool', 'public',
      '2011-01-26T19:01:12Z', '2011-01-26T19:14:43Z', 108, 80, 42, '2026-01-02T03:04:05Z')`);
}

describe.each(BACKENDS)(
  "migrating a database filled before whole-account saves, on %s",
  (backend) => {
    let database: Database;
    const cleanups: (() => Promise<unknown>)[] = [];

    beforeAll(async () => {
      const previous = await migrationsBefore("0002_whole_account_saves");
      cleanups.push(() => rm(previous, { recursive: true, force: true }));
      if (backend === "postgres") {
        const created = await createPostgresDatabase();
        cleanups.push(created.drop);
        const pool = new pg.Pool({ connectionString: created.url });
        const db = drizzleNodePg(pool);
        await migrateNodePg(db, { migrationsFolder: previous });
        await fillPreviousSchema(db as unknown as AnyDb);
        await pool.end();
        database = openDatabase({ url: created.url });
      } else {
        const dataDir = await mkdtemp(join(tmpdir(), "pglite-migrate-"));
        cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
        const client = new PGlite(dataDir);
        const db = drizzlePglite(client);
        await migratePglite(db, { migrationsFolder: previous });
        await fillPreviousSchema(db as unknown as AnyDb);
        await client.close();
        database = openDatabase({ dataDir });
      }
      cleanups.unshift(() => database.close());
      await database.migrate();
    });
    afterAll(async () => {
      for (const cleanup of cleanups) await cleanup();
    });

    it("keeps every row and value, and records no whole save that never happened", async () => {
      expect(
        await queryRows(
          database,
          sql`select id::int, login, type, html_url, synced_at = '2026-01-02T03:04:05Z' as kept_sync,
          listing_version::int, listed_at from "user"`,
        ),
      ).toEqual([
        {
          id: 1,
          login: "alice",
          type: "User",
          html_url: "https://github.com/alice",
          kept_sync: true,
          listing_version: 42,
          listed_at: null,
        },
      ]);
      expect(
        await queryRows(
          database,
          sql`select id::int, user_id::int, name, full_name, size, stars, watchers,
          created_at = '2011-01-26T19:01:12Z' as kept_created from repository`,
        ),
      ).toEqual([
        {
          id: 10,
          user_id: 1,
          name: "tool",
          full_name: "alice/tool",
          size: 108,
          stars: 80,
          watchers: 42,
          kept_created: true,
        },
      ]);
    });

    it("then takes whole saves, keeping the watchers it knew", async () => {
      const store = new RepositoryStore(database.db);
      await store.saveListing(
        { id: 1, login: "alice", type: "User", htmlUrl: "https://github.com/alice" },
        [
          {
            id: 10,
            name: "tool",
            fullName: "alice/tool",
            htmlUrl: "https://github.com/alice/tool",
            visibility: "public",
            createdAt: new Date("2011-01-26T19:01:12Z"),
            updatedAt: new Date("2011-01-26T19:14:43Z"),
            size: 108,
            stars: 81,
            watchers: null,
          },
        ],
      );
      expect(await queryRows(database, sql`select stars, watchers from repository`)).toEqual([
        { stars: 81, watchers: 42 },
      ]);
      expect((await store.findListing("alice"))?.user.listedAt).not.toBeNull();
    });
  },
);
