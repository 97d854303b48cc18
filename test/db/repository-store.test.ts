import { sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { openDatabase } from "../../src/db/database.js";
import { DatabaseConflictError, DatabaseUnavailableError } from "../../src/db/errors.js";
import { RepositoryStore } from "../../src/db/repository-store.js";
import { byName } from "../../src/repositories/views.js";
import { BACKENDS, openTestDatabase, queryRows, type TestDatabase } from "../helpers/databases.js";
import { owner, repository } from "../helpers/records.js";

describe.each(BACKENDS)("RepositoryStore on %s", (backend) => {
  let test: TestDatabase;
  let store: RepositoryStore;

  beforeAll(async () => {
    test = await openTestDatabase(backend);
    store = new RepositoryStore(test.database.db);
  });
  afterAll(() => test.dispose());
  beforeEach(async () => {
    await test.database.db.execute(sql`truncate "repository", "user"`);
  });

  const count = async (table: "user" | "repository") => {
    const [row] = await queryRows(
      test.database,
      sql.raw(`select count(*)::int as n from "${table}"`),
    );
    return row?.n;
  };

  it("creates exactly the tables user and repository, keyed by bigint, with the foreign key", async () => {
    const tables = await queryRows(
      test.database,
      sql`select table_name from information_schema.tables where table_schema = 'public' order by table_name`,
    );
    expect(tables.map((row) => row.table_name)).toEqual(["repository", "user"]);
    const keys = await queryRows(
      test.database,
      sql`
      select c.table_name, c.column_name, c.data_type from information_schema.columns c
      where c.table_schema = 'public' and c.column_name in ('id', 'user_id') order by 1, 2`,
    );
    expect(keys).toEqual([
      { table_name: "repository", column_name: "id", data_type: "bigint" },
      { table_name: "repository", column_name: "user_id", data_type: "bigint" },
      { table_name: "user", column_name: "id", data_type: "bigint" },
    ]);
    const foreignKeys = await queryRows(
      test.database,
      sql`
      select pg_get_constraintdef(oid) as definition from pg_constraint where contype = 'f'`,
    );
    expect(foreignKeys).toEqual([
      { definition: 'FOREIGN KEY (user_id) REFERENCES "user"(id) ON DELETE CASCADE' },
    ]);
  });

  it("keeps two owners' repositories of the same name apart", async () => {
    await store.saveRepository(owner(1, "alice"), repository(10, "alice", "dotfiles"));
    await store.saveRepository(owner(2, "bob"), repository(20, "bob", "dotfiles", { stars: 3 }));
    expect(await count("repository")).toBe(2);
    const alice = await store.findListing("alice");
    const bob = await store.findListing("bob");
    expect(alice?.repositories.map((r) => [r.id, r.fullName])).toEqual([[10, "alice/dotfiles"]]);
    expect(bob?.repositories.map((r) => [r.id, r.fullName, r.stars])).toEqual([
      [20, "bob/dotfiles", 3],
    ]);
  });

  it("updates changed fields on a re-save instead of duplicating", async () => {
    await store.saveRepository(owner(1, "alice"), repository(10, "alice", "tool"));
    await store.saveRepository(
      owner(1, "alice"),
      repository(10, "alice", "tool-renamed", { stars: 81, watchers: 43, size: 200 }),
    );
    expect(await count("repository")).toBe(1);
    expect(await count("user")).toBe(1);
    const listing = await store.findListing("alice");
    expect(listing?.repositories).toEqual([
      {
        id: 10,
        name: "tool-renamed",
        fullName: "alice/tool-renamed",
        htmlUrl: "https://github.com/alice/tool-renamed",
        visibility: "public",
        createdAt: "2011-01-26T19:01:12Z",
        updatedAt: "2011-01-26T19:14:43Z",
        size: 200,
        stars: 81,
        syncedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      },
    ]);
    const [row] = await queryRows(test.database, sql`select watchers from repository`);
    expect(row).toEqual({ watchers: 43 });
  });

  it("answers a login for the account that holds it now after a rename", async () => {
    await store.saveRepository(owner(1, "alice"), repository(10, "alice", "old-account-repo"));
    // Account 1 renamed itself; account 2 then took the login "alice".
    await store.saveRepository(owner(2, "Alice"), repository(20, "Alice", "new-account-repo"));
    const listing = await store.findListing("ALICE");
    expect(listing?.user).toEqual({ id: 2, login: "Alice", listedAt: null });
    expect(listing?.repositories.map((r) => r.id)).toEqual([20]);
    // Nothing of the renamed account is lost; it reappears under its new login when seen again.
    expect(await count("repository")).toBe(2);
    await store.saveRepository(
      owner(1, "alice-renamed"),
      repository(10, "alice-renamed", "old-account-repo"),
    );
    expect((await store.findListing("alice-renamed"))?.repositories.map((r) => r.id)).toEqual([10]);
    expect((await store.findListing("alice"))?.user.id).toBe(2);
  });

  it("looks logins up case-insensitively and keeps GitHub's spelling", async () => {
    await store.saveRepository(owner(1, "OctoCat"), repository(10, "OctoCat", "x"));
    expect((await store.findListing("octocat"))?.user).toEqual({
      id: 1,
      login: "OctoCat",
      listedAt: null,
    });
    expect(await store.findListing("nobody")).toBeUndefined();
  });

  it("lists an owner whose repositories all moved away as an empty list", async () => {
    await store.saveRepository(owner(1, "alice"), repository(10, "alice", "moving"));
    await store.saveRepository(owner(2, "bob"), repository(10, "bob", "moving"));
    expect(await store.findListing("alice")).toMatchObject({
      user: { id: 1, login: "alice" },
      repositories: [],
    });
    expect((await store.findListing("bob"))?.repositories.map((r) => r.id)).toEqual([10]);
  });

  describe("listing versions", () => {
    const current = async (login: string) => {
      const listing = await store.findListing(login);
      if (!listing) throw new Error(`nothing saved for ${login}`);
      return listing.version;
    };

    it("answers unchanged for the current version, reading no repository", async () => {
      await store.saveRepository(owner(1, "alice"), repository(10, "alice", "x"));
      const version = await current("alice");
      expect(version.userId).toBe(1);
      expect(await store.findListing("ALICE", version)).toBe("unchanged");
      // The repository table is put behind a view whose every row read fails, so the check of
      // the held version must not read one; a read without it shows the view does fail.
      const execute = (query: string) => test.database.db.execute(sql.raw(query));
      await execute("alter table repository rename to repository_rows");
      await execute(`create function fail_on_read() returns boolean language plpgsql volatile as $$
        begin raise exception using errcode = 'ZZ043', message = 'a repository was read'; end $$`);
      await execute("create view repository as select * from repository_rows where fail_on_read()");
      try {
        expect(await store.findListing("alice", version)).toBe("unchanged");
        await expect(store.findListing("alice")).rejects.toMatchObject({
          cause: { code: "ZZ043" },
        });
      } finally {
        await execute("drop view repository");
        await execute("drop function fail_on_read");
        await execute("alter table repository_rows rename to repository");
      }
    });

    it("moves on with every save of the owner's repositories, and only the owner's", async () => {
      await store.saveRepository(owner(1, "alice"), repository(10, "alice", "x"));
      await store.saveRepository(owner(2, "bob"), repository(20, "bob", "y"));
      const alice = await current("alice");
      const bob = await current("bob");
      await store.saveRepository(owner(1, "alice"), repository(11, "alice", "z"));
      const after = await store.findListing("alice", alice);
      expect(after).toMatchObject({ repositories: [{ id: 10 }, { id: 11 }] });
      expect(after !== "unchanged" && after?.version.version).toBeGreaterThan(alice.version);
      expect(await store.findListing("bob", bob)).toBe("unchanged");
    });

    it("moves on for the previous owner when a repository is transferred away", async () => {
      await store.saveRepository(owner(1, "alice"), repository(10, "alice", "moving"));
      const alice = await current("alice");
      await store.saveRepository(owner(2, "bob"), repository(10, "bob", "moving"));
      expect(await store.findListing("alice", alice)).toMatchObject({ repositories: [] });
    });

    it("answers for the account that holds the login now, not for a held copy of its old holder", async () => {
      await store.saveRepository(owner(1, "alice"), repository(10, "alice", "old"));
      const oldHolder = await current("alice");
      await store.saveRepository(owner(2, "alice"), repository(20, "alice", "new"));
      expect(await store.findListing("alice", oldHolder)).toMatchObject({
        user: { id: 2 },
        repositories: [{ id: 20 }],
      });
    });

    it("does not repeat a version after the tables are emptied and filled again", async () => {
      await store.saveRepository(owner(1, "alice"), repository(10, "alice", "before"));
      const before = await current("alice");
      await test.database.db.execute(sql`truncate "repository", "user"`);
      await store.saveRepository(owner(1, "alice"), repository(11, "alice", "after"));
      expect(await store.findListing("alice", before)).toMatchObject({
        repositories: [{ id: 11 }],
      });
    });
  });

  it("replaces a saved repository whose name now belongs to a newer repository", async () => {
    await store.saveRepository(owner(1, "alice"), repository(10, "alice", "Project"));
    await store.saveRepository(owner(1, "alice"), repository(11, "alice", "project"));
    const listing = await store.findListing("alice");
    expect(listing?.repositories.map((r) => [r.id, r.name])).toEqual([[11, "project"]]);
  });

  it("sorts by name case-insensitively, in the same order as the GitHub listing", async () => {
    const names = ["zeta", "Alpha", "beta", "_under", "a.b", "a-b", "a_b", "A1", "Beta2", "-x"];
    for (const [index, name] of names.entries()) {
      await store.saveRepository(owner(1, "alice"), repository(100 + index, "alice", name));
    }
    const listed = (await store.findListing("alice"))?.repositories.map((r) => r.name);
    expect(listed).toEqual(
      names
        .map((name) => ({ name }))
        .sort(byName)
        .map((r) => r.name),
    );
  });

  it("ends 50 concurrent saves of one repository in one row", async () => {
    await Promise.all(
      Array.from({ length: 50 }, (_, index) =>
        store.saveRepository(owner(7, "racer"), repository(70, "racer", "race", { stars: index })),
      ),
    );
    expect(await count("repository")).toBe(1);
    expect(await count("user")).toBe(1);
    const stars = (await store.findListing("racer"))?.repositories[0]?.stars;
    expect(stars).toBeGreaterThanOrEqual(0);
    expect(stars).toBeLessThan(50);
  });

  describe("a save that meets a serialization failure", () => {
    const execute = (query: string) => test.database.db.execute(sql.raw(query));
    const attempts = async () =>
      Number(
        (await queryRows(test.database, sql`select last_value from save_attempts`))[0]?.last_value,
      );

    /** Makes every insert into repository count itself and fail with 40001 while `failing`. */
    async function failInserts(failing: string) {
      // A sequence, because its count survives the rollback of the transaction that failed.
      await execute("create sequence save_attempts");
      await execute(`create function fail_serialization() returns trigger language plpgsql as $$
        begin
          if ${failing} then raise exception using errcode = '40001', message = 'could not serialize'; end if;
          return new;
        end $$`);
      await execute(`create trigger fail_serialization before insert on repository
        for each row execute function fail_serialization()`);
    }
    afterEach(async () => {
      await execute("drop trigger if exists fail_serialization on repository");
      await execute("drop function if exists fail_serialization");
      await execute("drop sequence if exists save_attempts");
    });

    it("is run again, and saved, when only the first attempt fails", async () => {
      await failInserts("nextval('save_attempts') = 1");
      await store.saveRepository(owner(1, "alice"), repository(10, "alice", "retried"));
      expect(await attempts()).toBe(2);
      expect((await store.findListing("alice"))?.repositories.map((r) => r.id)).toEqual([10]);
    });

    it("gives up after five attempts when every one fails, saving nothing, as a busy database", async () => {
      await failInserts("nextval('save_attempts') > 0");
      const failure = store.saveRepository(owner(1, "alice"), repository(10, "alice", "doomed"));
      await expect(failure).rejects.toBeInstanceOf(DatabaseConflictError);
      await expect(failure).rejects.toMatchObject({ cause: { cause: { code: "40001" } } });
      expect(await attempts()).toBe(5);
      expect(await count("repository")).toBe(0);
      expect(await count("user")).toBe(0);
    });
  });

  it("keeps the timestamps GitHub gave, in UTC to the second, whatever the session's zone", async () => {
    await store.saveRepository(
      owner(1, "alice"),
      repository(10, "alice", "t", { updatedAt: null }),
    );
    await test.database.db.execute(sql`set time zone 'Asia/Kolkata'`);
    const [saved] = (await store.findListing("alice"))?.repositories ?? [];
    await test.database.db.execute(sql`set time zone 'UTC'`);
    expect(saved?.createdAt).toBe("2011-01-26T19:01:12Z");
    expect(saved?.updatedAt).toBeNull();
  });
});

describe("RepositoryStore when Postgres is unreachable", () => {
  it("reports DatabaseUnavailableError for reads and writes", async () => {
    // Port 9 (discard) is closed on loopback, so every connection is refused at once.
    const database = openDatabase({
      url: "postgres://postgres@127.0.0.1:9/none",
      timeoutMs: 1_000,
    });
    const store = new RepositoryStore(database.db);
    try {
      await expect(store.findListing("alice")).rejects.toBeInstanceOf(DatabaseUnavailableError);
      await expect(
        store.saveRepository(owner(1, "alice"), repository(10, "alice", "x")),
      ).rejects.toBeInstanceOf(DatabaseUnavailableError);
      await expect(database.ping()).rejects.toThrow();
    } finally {
      await database.close();
    }
  });
});
