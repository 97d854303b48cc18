import { sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { FakeGitHub } from "../fake-github/server.js";
import { queryRows } from "../helpers/databases.js";
import { type Harness, startHarness } from "../helpers/harness.js";

const TOKEN = "ghp_hostileUpstreamTestToken";
const PROBLEM = "application/problem+json; charset=utf-8";

/** A GitHub that answers in ways meant to cost the service its budget, memory or data. */
describe("a hostile GitHub", () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ env: { GITHUB_TOKEN: TOKEN } });
  });
  afterAll(() => h.close());
  beforeEach(() => {
    h.fake.clearFaults();
    h.fake.resetRequests();
  });

  it("never asks for more pages than the account's repositories fill, whatever Link says", async () => {
    h.fake.addUser({ login: "five", repoCount: 5 });
    h.fake.injectFault({ kind: "inflated-link", path: "/users/five/repos", lastPage: 100_000 });
    const answer = await h.get("/repositories?username=five");
    expect(answer.status).toBe(502);
    expect(answer.headers["content-type"]).toBe(PROBLEM);
    expect(answer.body.detail).toContain("names 100000 pages");
    expect(answer.body.detail).toContain("5 repositories fill at most 2");
    // The account and the first page; not one page more.
    expect(h.fake.requests).toHaveLength(2);
  });

  it("still reads the one page a repository created meanwhile may add", async () => {
    h.fake.addUser({ login: "hundred", repoCount: 100 });
    h.fake.injectFault({
      kind: "inflated-link",
      path: "/users/hundred/repos",
      lastPage: 2,
      times: 1,
    });
    const answer = await h.get("/repositories?username=hundred");
    expect(answer.status).toBe(200);
    expect(answer.body.repositories).toHaveLength(100);
  });

  it("answers 502 for an answer larger than GITHUB_MAX_RESPONSE_BYTES, read no further", async () => {
    h.fake.addUser({ login: "bloated", repoCount: 1 });
    h.fake.injectFault({ kind: "oversized", path: "/users/bloated/repos", bytes: 6 * 1024 * 1024 });
    const answer = await h.get("/repositories?username=bloated");
    expect(answer.status).toBe(502);
    expect(answer.body.detail).toContain("larger than the 5242880 bytes");
  });

  it("follows no redirect out of the API, and saves nothing from one", async () => {
    const elsewhere = await FakeGitHub.start();
    try {
      elsewhere.addUser({ login: "victim" });
      elsewhere.addRepo("victim", { name: "moved", id: 777 });
      h.fake.addUser({ login: "victim" });
      h.fake.addRepo("victim", { name: "moved", id: 778 });
      h.fake.injectFault({
        kind: "redirect-away",
        path: "/repos/victim/moved",
        location: `${elsewhere.url}/repos/victim/moved`,
      });
      const answer = await h.get("/repositories/victim/moved?save_data=true");
      expect(answer.status).toBe(502);
      expect(answer.body.detail).toMatch(/^GitHub redirected to a place outside its API\b/);
      expect(elsewhere.requests).toHaveLength(0);
      const saved = await queryRows(
        h.test.database,
        sql`select id from repository where id in (777, 778)`,
      );
      expect(saved).toEqual([]);
    } finally {
      await elsewhere.close();
    }
  });

  it("follows a redirect within the API, as GitHub's for a renamed repository", async () => {
    h.fake.addUser({ login: "renamer" });
    h.fake.addRepo("renamer", { name: "new-name", id: 779 });
    h.fake.injectFault({
      kind: "redirect-away",
      path: "/repos/renamer/old-name",
      location: `${h.fake.url}/repos/renamer/new-name`,
    });
    const answer = await h.get("/repositories/renamer/old-name?save_data=false");
    expect(answer.status).toBe(200);
    expect(answer.body.name).toBe("new-name");
  });
});

describe.each([
  ["the primary rate limit", "rate-limit", 600],
  ["a secondary rate limit", "secondary-rate-limit", 120],
] as const)("while GitHub has said %s is spent", (_name, kind, seconds) => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ env: { GITHUB_TOKEN: TOKEN } });
    for (let index = 0; index < 10; index++)
      h.fake.addUser({ login: `limited-${index}`, repoCount: 1 });
  });
  afterAll(() => h.close());

  it("answers 503 with Retry-After without asking GitHub again", async () => {
    h.fake.injectFault({ kind, retryAfterSeconds: seconds, times: 1 });
    const first = await h.get("/repositories?username=limited-0");
    expect(first.status).toBe(503);
    const asked = h.fake.requests.length;
    // The account and the first page went out together; only one was refused.
    expect(asked).toBeLessThanOrEqual(2);
    for (let index = 1; index < 10; index++) {
      const answer = await h.get(`/repositories?username=limited-${index}`);
      expect(answer.status).toBe(503);
      expect(answer.headers["content-type"]).toBe(PROBLEM);
      const retryAfter = Number(answer.headers["retry-after"]);
      expect(retryAfter).toBeGreaterThan(seconds - 10);
      expect(retryAfter).toBeLessThanOrEqual(seconds);
    }
    expect(h.fake.requests).toHaveLength(asked);
  });
});
