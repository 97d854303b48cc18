import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "../helpers/harness.js";

const CAUSE = "internal detail: column mix-up in row 42";

/**
 * A 500 needs a failure no part foresees: a trigger on the real database raises an SQLSTATE of
 * its own ('ZZ042', in no class the service knows) on every insert into the repository table.
 */
describe("an unforeseen failure", () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ env: { CORS_ORIGINS: "*" } });
    h.fake.addUser({ login: "octocat", id: 1 });
    h.fake.addRepo("octocat", { name: "doomed", id: 10 });
    await h.test.database.db.execute(
      sql.raw(`
      create function fail_unforeseen() returns trigger language plpgsql as $$
      begin raise exception using errcode = 'ZZ042', message = '${CAUSE}'; end $$`),
    );
    await h.test.database.db.execute(sql`
      create trigger fail_unforeseen before insert on repository
        for each row execute function fail_unforeseen()`);
  });
  afterAll(() => h?.close());

  it("is a 500 problem that reveals nothing of the cause", async () => {
    const response = await h.get("/repositories/octocat/doomed?save_data=true");
    expect(response.status).toBe(500);
    expect(response.headers["content-type"]).toBe("application/problem+json; charset=utf-8");
    expect(response.body).toEqual({
      status: 500,
      type: "urn:problem:internal",
      title: "Internal server error",
      detail:
        "The service failed unexpectedly; the error is logged. Retry, and report it if it persists.",
      instance: "/repositories/octocat/doomed",
    });
    expect(response.text).not.toMatch(/row 42|ZZ042|insert into|repository"/);
    // The 500 came from the database's error, which is logged, not from anything else.
    const logged = h.logs.map((line) => JSON.parse(line)).filter((line) => line.level >= 50);
    expect(logged).toHaveLength(1);
    expect(JSON.stringify(logged[0].err)).toContain(CAUSE);
  });

  it("leaves CORS open to every origin when CORS_ORIGINS is *", async () => {
    const response = await fetch(`${h.url}/health`, { headers: { origin: "https://any.example" } });
    await response.text();
    expect(response.headers.get("access-control-allow-origin")).toBe("*");
  });
});
