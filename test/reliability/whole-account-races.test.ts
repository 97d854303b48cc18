import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BACKENDS, queryRows } from "../helpers/databases.js";
import { type Harness, startHarness } from "../helpers/harness.js";

/**
 * Whole-account saves racing each other and single saves over real HTTP. Each race uses
 * accounts of its own, so GitHub's answers are read fresh and the tests hold in any order.
 */
describe.each(BACKENDS)("whole-account saves racing on %s", (backend) => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ backend, env: { GITHUB_TIMEOUT_MS: "5000" } });
  });
  afterAll(() => h.close());

  /** What the database holds per owner id: the repository ids, sorted, duplicates kept. */
  const saved = async (ownerId: number) =>
    (
      await queryRows(
        h.test.database,
        sql`select id::int from repository where user_id = ${ownerId} order by id`,
      )
    ).map((row) => row.id);
  const githubIds = (first: number, count: number) =>
    Array.from({ length: count }, (_, index) => first + index);
  const statuses = (answers: { status: number }[]) => answers.map((answer) => answer.status);

  it("ends with exactly GitHub's repositories when whole saves of one account run at once", async () => {
    h.fake.addUser({ login: "twice", id: 8001 });
    for (const id of githubIds(80_010, 120)) h.fake.addRepo("twice", { name: `r-${id}`, id });
    // Saved before, and since deleted on GitHub: every racer removes it.
    h.fake.addRepo("twice", { name: "doomed", id: 80_000 });
    await h.get("/repositories/twice/doomed?save_data=true");
    h.fake.deleteRepo("twice", "doomed");

    const answers = await Promise.all(
      Array.from({ length: 6 }, () => h.get("/repositories/?username=twice&save_data=true")),
    );
    expect(statuses(answers)).toEqual(Array(6).fill(200));
    expect(await saved(8001)).toEqual(githubIds(80_010, 120));
  });

  it("ends with exactly GitHub's repositories when a whole save races single saves", async () => {
    h.fake.addUser({ login: "mixed", id: 8002 });
    for (const id of githubIds(80_300, 60)) {
      h.fake.addRepo("mixed", { name: `m-${id}`, id, subscribers_count: 3 });
    }
    const singles = githubIds(80_300, 20).map((id) =>
      h.get(`/repositories/mixed/m-${id}?save_data=true`),
    );
    const wholes = [0, 1].map(() => h.get("/repositories/?username=mixed&save_data=true"));
    const answers = await Promise.all([...singles, ...wholes]);
    expect(statuses(answers)).toEqual(Array(22).fill(200));
    expect(await saved(8002)).toEqual(githubIds(80_300, 60));
    // Whichever came last, the watchers the single saves learned are kept.
    const [known] = await queryRows(
      h.test.database,
      sql`select count(*)::int as n from repository where user_id = 8002 and watchers = 3`,
    );
    expect(known?.n).toBe(20);
  });

  it("ends with each owner holding exactly its repositories when a transfer races both owners' whole saves", async () => {
    const pairs = githubIds(0, 4).map((pair) => ({
      from: { login: `giver-${pair}`, id: 8100 + pair },
      to: { login: `taker-${pair}`, id: 8200 + pair },
      moving: 81_000 + pair * 100,
    }));
    for (const { from, to, moving } of pairs) {
      h.fake.addUser(from);
      h.fake.addUser(to);
      for (const id of githubIds(moving + 1, 5))
        h.fake.addRepo(from.login, { name: `g-${id}`, id });
      for (const id of githubIds(moving + 50, 5)) h.fake.addRepo(to.login, { name: `t-${id}`, id });
      h.fake.addRepo(from.login, { name: "moving", id: moving });
      // Saved under its first owner, then transferred on GitHub.
      await h.get(`/repositories/${from.login}/moving?save_data=true`);
      h.fake.transferRepo(from.login, "moving", to.login);
    }
    const answers = await Promise.all(
      pairs.flatMap(({ from, to }) => [
        h.get(`/repositories/?username=${from.login}&save_data=true`),
        h.get(`/repositories/?username=${to.login}&save_data=true`),
      ]),
    );
    expect(statuses(answers)).toEqual(Array(8).fill(200));
    for (const { from, to, moving } of pairs) {
      expect(await saved(from.id)).toEqual(githubIds(moving + 1, 5));
      expect(await saved(to.id)).toEqual([moving, ...githubIds(moving + 50, 5)]);
    }
  });
});
