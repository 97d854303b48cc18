import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { BACKENDS } from "../helpers/databases.js";
import { type Harness, startHarness } from "../helpers/harness.js";
import { startInProcessService } from "../helpers/in-process-service.js";

const PROBLEM_TYPE = "application/problem+json; charset=utf-8";

function expectProblem(
  response: { status: number; headers: Record<string, unknown>; body: any },
  status: number,
) {
  expect(response.status).toBe(status);
  expect(response.headers["content-type"]).toBe(PROBLEM_TYPE);
  expect(response.body).toMatchObject({ status, type: expect.stringMatching(/^urn:problem:/) });
  expect(typeof response.body.title).toBe("string");
  expect(response.body.detail.length).toBeGreaterThan(20);
}

describe.each(BACKENDS)("the /repositories endpoints on %s", (backend) => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ backend });
    h.fake.addUser({ login: "octocat", id: 583231 });
    h.fake.addRepo("octocat", {
      name: "Hello-World",
      id: 1296269,
      stargazers_count: 80,
      subscribers_count: 42,
      size: 108,
      created_at: "2011-01-26T19:01:12Z",
      updated_at: "2011-01-26T19:14:43Z",
    });
    h.fake.addRepo("octocat", { name: "zebra", id: 1296270 });
    h.fake.addRepo("octocat", { name: "apple", id: 1296271 });
    h.fake.addRepo("octocat", { name: "Banana", id: 1296272 });
    h.fake.addUser({ login: "many", id: 9001, repoCount: 250 });
    h.fake.addUser({ login: "empty", id: 9002 });
    h.fake.addUser({ login: "other", id: 9003 });
    h.fake.addRepo("other", { name: "Hello-World", id: 5000 });
  });
  afterAll(() => h.close());
  beforeEach(() => {
    h.fake.clearFaults();
    h.fake.resetRequests();
  });

  describe("GET /repositories?username=", () => {
    it("lists every public repository from GitHub, sorted by name, with the documented fields", async () => {
      const response = await h.get("/repositories?username=OCTOCAT");
      expect(response.status).toBe(200);
      expect(response.headers["content-type"]).toBe("application/json; charset=utf-8");
      expect(response.body.user_id).toBe(583231);
      expect(response.body.username).toBe("octocat");
      expect(response.body.source).toBe("github");
      expect(response.body.repositories.map((r: { name: string }) => r.name)).toEqual([
        "apple",
        "Banana",
        "Hello-World",
        "zebra",
      ]);
      expect(response.body.repositories[2]).toEqual({
        id: 1296269,
        name: "Hello-World",
        full_name: "octocat/Hello-World",
        url: "https://github.com/octocat/Hello-World",
        access: "public",
        created_at: "2011-01-26T19:01:12Z",
        updated_at: "2011-01-26T19:14:43Z",
        size: 108,
        stars: 80,
      });
    });

    it("fetches every page of a user with more than 100 repositories", async () => {
      const response = await h.get("/repositories?username=many");
      expect(response.status).toBe(200);
      expect(response.body.repositories).toHaveLength(250);
      expect(new Set(response.body.repositories.map((r: { id: number }) => r.id)).size).toBe(250);
      const pages = h.fake.requests.filter((r) => /\/repos\b/.test(r.path));
      expect(pages).toHaveLength(3);
      expect(pages.every((r) => r.path.includes("per_page=100"))).toBe(true);
    });

    it("answers a repeated listing as GitHub's answers are now, once they change", async () => {
      h.fake.addUser({ login: "changing-listing", repoCount: 3 });
      const first = await h.get("/repositories?username=changing-listing");
      const again = await h.get("/repositories?username=changing-listing");
      expect(again.text).toBe(first.text);
      const name = first.body.repositories[1].name as string;
      h.fake.updateRepo("changing-listing", name, { stargazers_count: 777 });
      // GitHub's max-age (60 s) runs out; only Date is faked, sockets and timers stay real.
      vi.useFakeTimers({ toFake: ["Date"] });
      try {
        vi.setSystemTime(Date.now() + 61_000);
        const changed = await h.get("/repositories?username=changing-listing");
        expect(changed.body.repositories.find((r: { name: string }) => r.name === name).stars).toBe(
          777,
        );
        vi.setSystemTime(Date.now() + 61_000);
        expect((await h.get("/repositories?username=changing-listing")).text).toBe(changed.text);
      } finally {
        vi.useRealTimers();
      }
    });

    it("answers a user without repositories with an empty list", async () => {
      const response = await h.get("/repositories?username=empty");
      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        user_id: 9002,
        username: "empty",
        source: "github",
        saved: false,
        repositories: [],
      });
    });

    it("treats a trailing slash as the same request", async () => {
      const withSlash = await h.get("/repositories/?username=octocat");
      const without = await h.get("/repositories?username=octocat");
      expect(withSlash.status).toBe(200);
      expect(withSlash.body).toEqual(without.body);
    });

    it("answers 404 for a user GitHub does not have", async () => {
      expectProblem(await h.get("/repositories?username=ghost"), 404);
    });

    it("answers 400 naming the parameter when username is missing or malformed, before asking GitHub", async () => {
      for (const query of [
        "",
        "?username=",
        "?username=a_b",
        `?username=${"a".repeat(40)}`,
        "?username=..%2Fetc",
      ]) {
        const response = await h.get(`/repositories${query}`);
        expectProblem(response, 400);
        expect(response.body.detail).toContain('"username"');
      }
      expect(h.fake.requests).toHaveLength(0);
    });

    it("accepts old-style logins with leading, trailing or repeated hyphens", async () => {
      h.fake.addUser({ login: "-old--style-", id: 9004 });
      const response = await h.get("/repositories?username=-old--style-");
      expect(response.status).toBe(200);
      expect(response.body.username).toBe("-old--style-");
    });

    it.each(["true", "TRUE", "1", "yes", "On"])("reads from_local=%s as true", async (word) => {
      const response = await h.get(`/repositories?username=nobody-saved&from_local=${word}`);
      expectProblem(response, 404);
      expect(h.fake.requests).toHaveLength(0);
    });

    it.each(["false", "False", "0", "no", "OFF"])("reads from_local=%s as false", async (word) => {
      const response = await h.get(`/repositories?username=octocat&from_local=${word}`);
      expect(response.status).toBe(200);
      expect(response.body.source).toBe("github");
    });

    it.each(["maybe", "2", "", "tru"])("answers 400 for from_local=%s", async (word) => {
      const response = await h.get(`/repositories?username=octocat&from_local=${word}`);
      expectProblem(response, 400);
      expect(response.body.detail).toContain('"from_local"');
    });

    it("answers 400 for a parameter given twice", async () => {
      const response = await h.get(
        "/repositories?username=octocat&from_local=true&from_local=false",
      );
      expectProblem(response, 400);
      expect(response.body.detail).toContain("once");
    });
  });

  describe("GET /repositories/{owner}/{name} and /repositories/{name}?username=", () => {
    it("answers the details with every documented field", async () => {
      const response = await h.get("/repositories/octocat/Hello-World?save_data=false");
      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        id: 1296269,
        name: "Hello-World",
        full_name: "octocat/Hello-World",
        owner: { id: 583231, username: "octocat" },
        url: "https://github.com/octocat/Hello-World",
        access: "public",
        created_at: "2011-01-26T19:01:12Z",
        updated_at: "2011-01-26T19:14:43Z",
        size: 108,
        stars: 80,
        watchers: 42,
        saved: false,
      });
    });

    it("answers the same for the brief's form with username", async () => {
      const byOwner = await h.get("/repositories/octocat/Hello-World?save_data=no");
      const byName = await h.get("/repositories/Hello-World?username=octocat&save_data=no");
      expect(byName.status).toBe(200);
      expect(byName.body).toEqual(byOwner.body);
    });

    it("answers 400 showing both forms when the name comes without username", async () => {
      const response = await h.get("/repositories/Hello-World?save_data=true");
      expectProblem(response, 400);
      expect(response.body.detail).toContain("/repositories/{owner}/Hello-World?save_data=true");
      expect(response.body.detail).toContain(
        "/repositories/Hello-World?username={owner}&save_data=true",
      );
      expect(h.fake.requests).toHaveLength(0);
    });

    it("answers 400 when save_data is missing or not a boolean", async () => {
      for (const path of [
        "/repositories/octocat/Hello-World",
        "/repositories/octocat/Hello-World?save_data=perhaps",
        "/repositories/Hello-World?username=octocat",
      ]) {
        const response = await h.get(path);
        expectProblem(response, 400);
        expect(response.body.detail).toContain('"save_data"');
      }
      expect(h.fake.requests).toHaveLength(0);
    });

    it("answers 400 for names GitHub cannot have, without asking GitHub", async () => {
      for (const path of [
        "/repositories/octocat/..?save_data=false",
        "/repositories/octocat/.?save_data=false",
        "/repositories/octocat/a%20b?save_data=false",
        `/repositories/octocat/${"x".repeat(101)}?save_data=false`,
        "/repositories/octo_cat/x?save_data=false",
        "/repositories/x?username=a%2Fb&save_data=false",
      ]) {
        expectProblem(await h.get(path), 400);
      }
      expect(h.fake.requests).toHaveLength(0);
    });

    it("answers 404 for a repository GitHub does not have", async () => {
      expectProblem(await h.get("/repositories/octocat/nope?save_data=false"), 404);
    });

    it("follows a rename (301) to the repository's new name", async () => {
      h.fake.addRepo("octocat", { name: "before", id: 777 });
      h.fake.renameRepo("octocat", "before", "after");
      const response = await h.get("/repositories/octocat/before?save_data=false");
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ id: 777, name: "after", full_name: "octocat/after" });
    });
  });

  describe("saving and reading back", () => {
    it("saves with save_data=true and lists the copy with from_local=true", async () => {
      const saved = await h.get("/repositories/octocat/Hello-World?save_data=true");
      expect(saved.status).toBe(200);
      expect(saved.body.saved).toBe(true);
      await h.get("/repositories/octocat/apple?save_data=1");
      h.fake.resetRequests();
      const local = await h.get("/repositories?username=OctoCat&from_local=true");
      expect(h.fake.requests).toHaveLength(0);
      expect(local.status).toBe(200);
      expect(local.body.source).toBe("local");
      expect(local.body.user_id).toBe(583231);
      expect(local.body.username).toBe("octocat");
      const remote = (await h.get("/repositories?username=octocat")).body.repositories;
      const expected = remote
        .filter((r: { name: string }) => ["apple", "Hello-World"].includes(r.name))
        .map((r: object) => ({ ...r, synced_at: expect.stringMatching(/Z$/) }));
      expect(local.body.repositories).toEqual(expected);
      // Only single repositories were saved, not the whole account.
      expect(local.body.synced_at).toBeNull();
    });

    it("never mixes two owners' repositories of the same name", async () => {
      await h.get("/repositories/octocat/Hello-World?save_data=true");
      await h.get("/repositories/other/Hello-World?save_data=true");
      const mine = await h.get("/repositories?username=octocat&from_local=true");
      const theirs = await h.get("/repositories?username=other&from_local=true");
      expect(
        mine.body.repositories.find((r: { name: string }) => r.name === "Hello-World").id,
      ).toBe(1296269);
      expect(theirs.body.repositories.map((r: { id: number }) => r.id)).toEqual([5000]);
    });

    it("updates what changed on GitHub when saved again", async () => {
      h.fake.addRepo("octocat", { name: "growing", id: 888, stargazers_count: 1 });
      await h.get("/repositories/octocat/growing?save_data=true");
      h.fake.updateRepo("octocat", "growing", { stargazers_count: 2 });
      // GitHub's answers may be cached for up to a minute; a new name is a new request.
      h.fake.renameRepo("octocat", "growing", "grown");
      await h.get("/repositories/octocat/grown?save_data=true");
      const local = await h.get("/repositories?username=octocat&from_local=true");
      const entries = local.body.repositories.filter((r: { id: number }) => r.id === 888);
      expect(entries).toEqual([expect.objectContaining({ name: "grown", stars: 2 })]);
    });

    it("answers the listing as saved now, also after another replica saved to the same database", async () => {
      const replica = await startInProcessService({
        database: h.test.database,
        githubUrl: h.fake.url,
      });
      try {
        h.fake.addUser({ login: "shared", id: 9200 });
        h.fake.addRepo("shared", { name: "first", id: 9201 });
        h.fake.addRepo("shared", { name: "second", id: 9202 });
        await h.get("/repositories/shared/first?save_data=true");
        const names = async () =>
          (await h.get("/repositories?username=shared&from_local=true")).body.repositories.map(
            (r: { name: string }) => r.name,
          );
        expect(await names()).toEqual(["first"]);
        expect(await names()).toEqual(["first"]);
        await replica.get("/repositories/shared/second?save_data=true");
        expect(await names()).toEqual(["first", "second"]);
      } finally {
        await replica.close();
      }
    });

    it("says whether each answer saved, while GitHub's answer is fresh and shared", async () => {
      h.fake.addUser({ login: "alternate", id: 9300 });
      h.fake.addRepo("alternate", { name: "flip", id: 9301 });
      const path = "/repositories/alternate/flip?save_data=";
      const answers = [];
      for (const save of ["false", "true", "false", "true"]) answers.push(await h.get(path + save));
      expect(answers.map((answer) => answer.body.saved)).toEqual([false, true, false, true]);
      for (const answer of answers) {
        expect({ ...answer.body, saved: false }).toEqual(answers[0]?.body);
      }
      expect(h.fake.requests.filter((request) => request.path.includes("/flip"))).toHaveLength(1);
    });

    it("does not save when save_data=false", async () => {
      h.fake.addUser({ login: "reader", id: 9100 });
      h.fake.addRepo("reader", { name: "only-read", id: 9101 });
      const response = await h.get("/repositories/reader/only-read?save_data=false");
      expect(response.body.saved).toBe(false);
      expectProblem(await h.get("/repositories?username=reader&from_local=true"), 404);
    });
  });
});
