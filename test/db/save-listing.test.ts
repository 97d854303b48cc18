import { sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type RepositoryRecord, RepositoryStore } from "../../src/db/repository-store.js";
import { BACKENDS, openTestDatabase, queryRows, type TestDatabase } from "../helpers/databases.js";
import { owner, repository } from "../helpers/records.js";

/** A repository as a listing gives it: no watchers. */
const listed = (
  id: number,
  ownerLogin: string,
  name: string,
  overrides: Partial<RepositoryRecord> = {},
) => repository(id, ownerLogin, name, { watchers: null, ...overrides });

const GITHUB_TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

describe.each(BACKENDS)("saving a whole account on %s", (backend) => {
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

  const rows = (query: ReturnType<typeof sql>) => queryRows(test.database, query);
  const owners = async () =>
    (await rows(sql`select id::int, user_id::int, name from repository order by id`)).map(
      (row) => `${row.user_id}:${row.id}:${row.name}`,
    );

  it("saves the owner and every repository, records when, and leaves watchers unknown", async () => {
    await store.saveListing(owner(1, "alice"), [
      listed(10, "alice", "b"),
      listed(11, "alice", "A"),
    ]);
    const listing = await store.findListing("ALICE");
    expect(listing?.user).toEqual({ id: 1, login: "alice", listedAt: expect.any(String) });
    expect(listing?.user.listedAt).toMatch(GITHUB_TIMESTAMP);
    expect(listing?.repositories.map((r) => [r.name, r.stars])).toEqual([
      ["A", 80],
      ["b", 80],
    ]);
    for (const repository of listing?.repositories ?? []) {
      expect(repository.syncedAt).toMatch(GITHUB_TIMESTAMP);
    }
    expect(await rows(sql`select watchers from repository`)).toEqual([
      { watchers: null },
      { watchers: null },
    ]);
  });

  it("removes the owner's repositories the listing no longer holds, and no one else's", async () => {
    await store.saveListing(owner(1, "alice"), [
      listed(10, "alice", "kept"),
      listed(11, "alice", "deleted"),
    ]);
    await store.saveListing(owner(2, "bob"), [listed(20, "bob", "deleted")]);
    await store.saveListing(owner(1, "alice"), [listed(10, "alice", "kept")]);
    expect(await owners()).toEqual(["1:10:kept", "2:20:deleted"]);
  });

  it("lists an account whose every repository is gone as an empty list, still saved whole", async () => {
    await store.saveListing(owner(1, "alice"), [listed(10, "alice", "gone")]);
    await store.saveListing(owner(1, "alice"), []);
    expect(await store.findListing("alice")).toMatchObject({
      user: { id: 1, listedAt: expect.stringMatching(GITHUB_TIMESTAMP) },
      repositories: [],
    });
  });

  it("moves a repository transferred from another owner, and that owner's listing changes", async () => {
    await store.saveListing(owner(1, "alice"), [listed(10, "alice", "moving")]);
    const before = await store.findListing("alice");
    await store.saveListing(owner(2, "bob"), [listed(10, "bob", "moving")]);
    expect(await owners()).toEqual(["2:10:moving"]);
    expect(await store.findListing("alice", before?.version)).not.toBe("unchanged");
    expect((await store.findListing("alice"))?.repositories).toEqual([]);
  });

  it("never overwrites a known watchers with the listing's unknown, and a details save fills it", async () => {
    await store.saveListing(owner(1, "alice"), [listed(10, "alice", "r")]);
    await store.saveRepository(owner(1, "alice"), listed(10, "alice", "r", { watchers: 7 }));
    await store.saveListing(owner(1, "alice"), [listed(10, "alice", "r", { stars: 81 })]);
    expect(await rows(sql`select watchers, stars from repository`)).toEqual([
      { watchers: 7, stars: 81 },
    ]);
  });

  it("applies renames that swap names within the owner", async () => {
    await store.saveListing(owner(1, "alice"), [
      listed(10, "alice", "first"),
      listed(11, "alice", "second"),
    ]);
    await store.saveListing(owner(1, "alice"), [
      listed(10, "alice", "Second"),
      listed(11, "alice", "first"),
      listed(12, "alice", "third"),
    ]);
    expect(await owners()).toEqual(["1:10:Second", "1:11:first", "1:12:third"]);
  });

  it("takes the login from an account that was renamed, as single saves do", async () => {
    await store.saveRepository(owner(1, "alice"), listed(10, "alice", "old", { watchers: 1 }));
    await store.saveListing(owner(2, "Alice"), [listed(20, "Alice", "new")]);
    expect((await store.findListing("alice"))?.user.id).toBe(2);
    expect(await owners()).toEqual(["1:10:old", "2:20:new"]);
  });

  it("keeps the moment of the last whole save apart from single saves", async () => {
    await store.saveRepository(owner(1, "alice"), listed(10, "alice", "single", { watchers: 1 }));
    expect((await store.findListing("alice"))?.user.listedAt).toBeNull();
    await store.saveListing(owner(1, "alice"), [listed(10, "alice", "single")]);
    const [whole] = await rows(sql`select listed_at from "user"`);
    await store.saveRepository(owner(1, "alice"), listed(10, "alice", "single", { watchers: 2 }));
    expect(await rows(sql`select listed_at from "user"`)).toEqual([whole]);
  });

  it("moves the account's listing version once per whole save, not once per repository", async () => {
    // A sequence counts the changes of listing_version; it survives whatever the save does.
    const execute = (query: string) => test.database.db.execute(sql.raw(query));
    await execute("create sequence version_moves");
    await execute(`create function count_version_move() returns trigger language plpgsql as $$
      begin perform nextval('version_moves'); return new; end $$`);
    await execute(`create trigger count_version_move after update on "user" for each row
      when (old.listing_version is distinct from new.listing_version)
      execute function count_version_move()`);
    try {
      const many = Array.from({ length: 50 }, (_, i) => listed(100 + i, "alice", `r${i}`));
      await store.saveListing(owner(1, "alice"), many);
      await store.saveListing(owner(1, "alice"), many);
      const [moves] = await rows(sql`select last_value::int as n, is_called from version_moves`);
      // The first save inserts the account (no update); the second moves its version once.
      expect(moves).toEqual({ n: 1, is_called: true });
    } finally {
      await execute(`drop trigger count_version_move on "user"`);
      await execute("drop function count_version_move");
      await execute("drop sequence version_moves");
    }
  });

  it("saves 5,000 repositories in one transaction", async () => {
    const many = Array.from({ length: 5_000 }, (_, i) => listed(1_000 + i, "big", `repo-${i}`));
    await store.saveListing(owner(3, "big"), many);
    const listing = await store.findListing("big");
    expect(listing?.repositories).toHaveLength(5_000);
    // One transaction: every row carries its transaction's now().
    expect(await rows(sql`select count(distinct synced_at)::int as n from repository`)).toEqual([
      { n: 1 },
    ]);
  });
});
