import { sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { BACKENDS, queryRows } from "../helpers/databases.js";
import { type Harness, startHarness } from "../helpers/harness.js";

const GITHUB_TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

interface Listed {
  id: number;
  name: string;
  stars: number;
  synced_at?: string;
}

describe.each(BACKENDS)("whole-account saves on %s", (backend) => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ backend });
    h.fake.addUser({ login: "whole", id: 7001 });
    h.fake.addRepo("whole", { name: "alpha", id: 70011, stargazers_count: 1 });
    h.fake.addRepo("whole", { name: "Beta", id: 70012, subscribers_count: 9 });
    h.fake.addRepo("whole", { name: "gamma", id: 70013 });
    h.fake.addRepo("whole", { name: "secret", id: 70014, visibility: "private", private: true });
    h.fake.addUser({ login: "receiver", id: 7002 });
    h.fake.addRepo("receiver", { name: "own", id: 70021 });
    h.fake.addUser({ login: "paged", id: 7003, repoCount: 250 });
  });
  afterAll(() => h.close());
  beforeEach(() => {
    h.fake.clearFaults();
    h.fake.resetRequests();
  });
  afterEach(() => vi.useRealTimers());

  const database = () => h.test.database;
  /**
   * GitHub's answers may be kept for a minute (its max-age); this moves the clock past it, and
   * past every earlier move, since answers kept then carry that time.
   */
  let clockAhead = 0;
  const afterMaxAge = () => {
    clockAhead += 61_000;
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + clockAhead);
  };
  const names = (repositories: Listed[]) => repositories.map((r) => r.name);

  it("saves every page of the account in one answer that says it was saved", async () => {
    const remote = await h.get("/repositories/?username=whole");
    expect(remote.body.saved).toBe(false);
    const saved = await h.get("/repositories/?username=WHOLE&save_data=true");
    expect(saved.status).toBe(200);
    expect(saved.body).toEqual({ ...remote.body, saved: true });
    expect(names(saved.body.repositories)).toEqual(["alpha", "Beta", "gamma"]);

    h.fake.resetRequests();
    const local = await h.get("/repositories/?username=whole&from_local=true");
    expect(h.fake.requests).toHaveLength(0);
    expect(local.body).toMatchObject({
      user_id: 7001,
      username: "whole",
      source: "local",
      synced_at: expect.stringMatching(GITHUB_TIMESTAMP),
    });
    expect(local.body.saved).toBeUndefined();
    expect(local.body.repositories).toEqual(
      remote.body.repositories.map((r: Listed) => ({ ...r, synced_at: local.body.synced_at })),
    );
    // Not public, so not shown, and not saved either.
    expect(
      await queryRows(
        database(),
        sql`select id::int, watchers from repository where user_id = 7001 order by id`,
      ),
    ).toEqual([
      { id: 70011, watchers: null },
      { id: 70012, watchers: null },
      { id: 70013, watchers: null },
    ]);
  });

  it("fills watchers on a details save, and a later whole save keeps them", async () => {
    await h.get("/repositories/?username=whole&save_data=true");
    expect((await h.get("/repositories/whole/Beta?save_data=true")).body.watchers).toBe(9);
    afterMaxAge();
    await h.get("/repositories/?username=whole&save_data=true");
    expect(
      await queryRows(database(), sql`select watchers from repository where id = 70012`),
    ).toEqual([{ watchers: 9 }]);
  });

  it("ends with exactly GitHub's repositories after deletions, additions, changes and a transfer", async () => {
    await h.get("/repositories/?username=whole&save_data=true");
    await h.get("/repositories/?username=receiver&save_data=true");
    h.fake.deleteRepo("whole", "gamma");
    h.fake.addRepo("whole", { name: "delta", id: 70015, stargazers_count: 2 });
    h.fake.updateRepo("whole", "alpha", { stargazers_count: 5 });
    h.fake.transferRepo("whole", "Beta", "receiver");
    afterMaxAge();

    const whole = await h.get("/repositories/?username=whole&save_data=true");
    expect(names(whole.body.repositories)).toEqual(["alpha", "delta"]);
    const local = (await h.get("/repositories/?username=whole&from_local=true")).body;
    expect(local.repositories.map((r: Listed) => [r.name, r.stars])).toEqual([
      ["alpha", 5],
      ["delta", 2],
    ]);
    // The transferred repository left its old owner with that owner's whole save, and reaches
    // its new owner with the new owner's.
    expect(
      names((await h.get("/repositories/?username=receiver&from_local=true")).body.repositories),
    ).toEqual(["own"]);
    await h.get("/repositories/?username=receiver&save_data=true");
    expect(
      names((await h.get("/repositories/?username=receiver&from_local=true")).body.repositories),
    ).toEqual(["Beta", "own"]);
  });

  it("follows a renamed account: its new login answers, with the same id", async () => {
    h.fake.addUser({ login: "before-rename", id: 7004 });
    h.fake.addRepo("before-rename", { name: "kept", id: 70041 });
    await h.get("/repositories/?username=before-rename&save_data=true");
    h.fake.renameUser("before-rename", "after-rename");
    const saved = await h.get("/repositories/?username=after-rename&save_data=true");
    expect(saved.status).toBe(200);
    const local = await h.get("/repositories/?username=After-Rename&from_local=true");
    expect(local.body).toMatchObject({ user_id: 7004, username: "after-rename" });
    expect(names(local.body.repositories)).toEqual(["kept"]);
    expect((await h.get("/repositories/?username=before-rename&from_local=true")).status).toBe(404);
  });

  it("saves nothing when a page fails, and answers the failure as usual", async () => {
    h.fake.injectFault({ kind: "5xx-always", path: "/users/paged/repos" });
    const failed = await h.get("/repositories/?username=paged&save_data=true");
    expect(failed.status).toBe(502);
    expect((await h.get("/repositories/?username=paged&from_local=true")).status).toBe(404);
    h.fake.clearFaults();
    const saved = await h.get("/repositories/?username=paged&save_data=true");
    expect(saved.status).toBe(200);
    expect(saved.body.repositories).toHaveLength(250);
    expect(
      (await h.get("/repositories/?username=paged&from_local=true")).body.repositories,
    ).toHaveLength(250);
  });

  it("takes the boolean spellings of the details routes, and refuses from_local with save_data", async () => {
    for (const word of ["YES", "1", "On", "true"]) {
      expect((await h.get(`/repositories/?username=receiver&save_data=${word}`)).body.saved).toBe(
        true,
      );
    }
    for (const word of ["no", "0", "OFF", "False"]) {
      expect((await h.get(`/repositories/?username=receiver&save_data=${word}`)).body.saved).toBe(
        false,
      );
    }
    const invalid = await h.get("/repositories/?username=receiver&save_data=maybe");
    expect(invalid.status).toBe(400);
    expect(invalid.body.detail).toContain("save_data");

    h.fake.resetRequests();
    const both = await h.get("/repositories/?username=receiver&from_local=true&save_data=yes");
    expect(both.status).toBe(400);
    expect(both.headers["content-type"]).toBe("application/problem+json; charset=utf-8");
    expect(both.body.detail).toContain("/repositories/?username=receiver&save_data=true");
    expect(both.body.detail).toContain("/repositories/?username=receiver&from_local=true");
    expect(h.fake.requests).toHaveLength(0);
  });

  it("answers a save that keeps meeting concurrent saves with 503 and Retry-After, saving nothing", async () => {
    const execute = (query: string) => database().db.execute(sql.raw(query));
    await execute(`create function always_conflict() returns trigger language plpgsql as $$
      begin raise exception using errcode = '40001', message = 'could not serialize'; end $$`);
    await execute(`create trigger always_conflict before insert on repository
      for each statement execute function always_conflict()`);
    try {
      h.fake.addUser({ login: "conflicted", id: 7005 });
      h.fake.addRepo("conflicted", { name: "r", id: 70051 });
      const answer = await h.get("/repositories/?username=conflicted&save_data=true");
      expect(answer.status).toBe(503);
      expect(answer.headers["retry-after"]).toBe("2");
      expect(answer.body.type).toBe("urn:problem:database-busy");
      expect((await h.get("/repositories/?username=conflicted&from_local=true")).status).toBe(404);
    } finally {
      await execute("drop trigger always_conflict on repository");
      await execute("drop function always_conflict");
    }
  });
});
