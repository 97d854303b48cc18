import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "../helpers/harness.js";
import { startInProcessService } from "../helpers/in-process-service.js";

const TOKEN = "ghp_TESTTOKENshouldNeverLeak0123456789";
const GITHUB_TIMEOUT_MS = 1_000;
// A reliability bound: a hang is answered within GITHUB_TIMEOUT_MS plus slack for a busy machine.
const HANG_ANSWER_BOUND_MS = GITHUB_TIMEOUT_MS + 2_000;

/** Each GitHub failure and the status API.md names for it, through the running app. */
describe("GitHub failures through the app", () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({
      env: { GITHUB_TOKEN: TOKEN, GITHUB_TIMEOUT_MS: String(GITHUB_TIMEOUT_MS) },
    });
    h.fake.addUser({ login: "octocat", id: 1 });
    h.fake.addRepo("octocat", { name: "repo", id: 10 });
  });
  afterAll(() => h.close());
  beforeEach(() => {
    h.fake.clearFaults();
    h.fake.resetRequests();
  });

  const details = (name = "repo") => h.get(`/repositories/octocat/${name}?save_data=false`);

  it("retries a 5xx and answers normally when the retry succeeds", async () => {
    h.fake.injectFault({ kind: "5xx-once", path: "/repos/octocat/repo" });
    const response = await details();
    expect(response.status).toBe(200);
    expect(h.fake.requests.filter((r) => r.path === "/repos/octocat/repo")).toHaveLength(2);
  });

  it("answers 502 after two retries of a lasting 5xx", async () => {
    h.fake.injectFault({ kind: "5xx-always", path: "/repos/octocat/repo2" });
    h.fake.addRepo("octocat", { name: "repo2", id: 11 });
    const response = await details("repo2");
    expect(response.status).toBe(502);
    expect(response.headers["content-type"]).toBe("application/problem+json; charset=utf-8");
    expect(h.fake.requests.filter((r) => r.path === "/repos/octocat/repo2")).toHaveLength(3);
  });

  it("answers 502 for a body that is not what GitHub documents", async () => {
    h.fake.addRepo("octocat", { name: "garbled", id: 12 });
    h.fake.injectFault({ kind: "malformed", path: "/repos/octocat/garbled" });
    expect((await details("garbled")).status).toBe(502);
  });

  it("answers 502 for a reset connection and for a truncated body", async () => {
    h.fake.addRepo("octocat", { name: "reset", id: 13 });
    h.fake.addRepo("octocat", { name: "short", id: 14 });
    h.fake.injectFault({ kind: "reset", path: "/repos/octocat/reset" });
    h.fake.injectFault({ kind: "truncated", path: "/repos/octocat/short" });
    expect((await details("reset")).status).toBe(502);
    expect((await details("short")).status).toBe(502);
  });

  it("answers 502 for a redirect loop", async () => {
    h.fake.addRepo("octocat", { name: "loop", id: 15 });
    h.fake.injectFault({ kind: "redirect-loop", path: "/repos/octocat/loop" });
    expect((await details("loop")).status).toBe(502);
  });

  it("answers 504 when GitHub hangs past GITHUB_TIMEOUT_MS, within a bounded time", async () => {
    h.fake.addRepo("octocat", { name: "slow", id: 16 });
    h.fake.injectFault({ kind: "hang", path: "/repos/octocat/slow" });
    const response = await details("slow");
    expect(response.status).toBe(504);
    expect(response.elapsedMs).toBeLessThan(HANG_ANSWER_BOUND_MS);
  });

  it("answers 404 for a private repository the token can see, and leaves it out of listings", async () => {
    h.fake.addRepo("octocat", { name: "secret", id: 19, private: true, visibility: "private" });
    const response = await h.get("/repositories/octocat/secret?save_data=true");
    expect(response.status).toBe(404);
    // GitHub did show it to the service's token; the service withheld it.
    expect(h.fake.requests.find((r) => r.path === "/repos/octocat/secret")?.status).toBe(200);
    const listing = await h.get("/repositories?username=octocat");
    expect(listing.body.repositories.map((r: { name: string }) => r.name)).not.toContain("secret");
    expect((await h.get("/repositories?username=octocat&from_local=true")).status).toBe(404);
  });

  it("sends the token as a Bearer credential and never shows it in answers or logs", async () => {
    h.fake.addUser({ login: "bearer", id: 2 });
    h.fake.addRepo("bearer", { name: "one", id: 20 });
    expect((await h.get("/repositories?username=bearer")).status).toBe(200);
    expect(h.fake.requests.at(-1)?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    h.fake.injectFault({ kind: "5xx-always" });
    const answers = await Promise.all([
      h.get("/repositories/bearer/uncached?save_data=true"),
      h.get("/repositories?username=unlisted"),
    ]);
    h.fake.clearFaults();
    expect(answers.map((answer) => answer.status)).toEqual([502, 502]);
    for (const answer of answers) expect(answer.text).not.toContain(TOKEN);
    expect(h.logs.length).toBeGreaterThan(0);
    expect(h.logs.join("\n")).not.toContain(TOKEN);
  });

  it("still serves normal requests after every fault", async () => {
    const faults = [
      ["5xx-always", 502],
      ["malformed", 502],
      ["reset", 502],
      ["truncated", 502],
      ["redirect-loop", 502],
      ["hang", 504],
    ] as const;
    // Rate limits are not among them: after one, the service rightly asks GitHub nothing until
    // the time GitHub named ("GitHub's rate limits through the app").
    const asked = (name: string) =>
      h.fake.requests.filter((r) => r.path === `/repos/octocat/${name}`).length;
    for (const [kind, status] of faults) {
      // Names the cache has not seen, so each answer has to come from GitHub.
      const faulted = `faulted-${kind}`;
      const fresh = `after-${kind}`;
      h.fake.addRepo("octocat", { name: faulted });
      h.fake.addRepo("octocat", { name: fresh });
      h.fake.injectFault({ kind, path: `/repos/octocat/${faulted}` });
      expect({ kind, status: (await details(faulted)).status }).toEqual({ kind, status });
      h.fake.clearFaults();
      expect({ kind, status: (await details(fresh)).status }).toEqual({ kind, status: 200 });
      expect({ kind, asked: asked(fresh) }).toEqual({ kind, asked: 1 });
      // The repository that failed is asked for again, not answered from a kept failure.
      const before = asked(faulted);
      expect({ kind, status: (await details(faulted)).status }).toEqual({ kind, status: 200 });
      expect({ kind, asked: asked(faulted) }).toEqual({ kind, asked: before + 1 });
    }
  });
});

/**
 * Each on a service of its own: once GitHub has said the budget is spent, the service asks
 * GitHub nothing more with that token until the time GitHub named.
 */
describe("GitHub's rate limits through the app", () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({ env: { GITHUB_TOKEN: TOKEN, GITHUB_TIMEOUT_MS: "1000" } });
    h.fake.addUser({ login: "octocat", id: 1 });
  });
  afterEach(() => h.close());

  const details = (name: string) => h.get(`/repositories/octocat/${name}?save_data=false`);

  it("answers 503 with Retry-After from x-ratelimit-reset when the primary limit is used up", async () => {
    const reset = Math.floor(Date.now() / 1000) + 120;
    h.fake.setRateLimit(0, reset);
    h.fake.addRepo("octocat", { name: "limited", id: 17 });
    const response = await details("limited");
    h.fake.setRateLimit(5000);
    // Answered at once: asked once, neither retried nor waited out.
    expect(h.fake.requests.filter((r) => r.path === "/repos/octocat/limited")).toHaveLength(1);
    expect(response.status).toBe(503);
    const retryAfter = Number(response.headers["retry-after"]);
    expect(retryAfter).toBeGreaterThanOrEqual(110);
    expect(retryAfter).toBeLessThanOrEqual(121);
  });

  it("answers 503 with GitHub's own Retry-After for a secondary rate limit", async () => {
    h.fake.addRepo("octocat", { name: "abused", id: 18 });
    h.fake.injectFault({
      kind: "secondary-rate-limit",
      path: "/repos/octocat/abused",
      retryAfterSeconds: 42,
    });
    const response = await details("abused");
    expect(response.status).toBe(503);
    expect(response.headers["retry-after"]).toBe("42");
  });
});

describe("ALLOW_PRIVATE_REPOS=true", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { ALLOW_PRIVATE_REPOS: "true", GITHUB_TOKEN: TOKEN } });
    h.fake.addUser({ login: "corp", id: 1 });
    h.fake.addRepo("corp", {
      name: "internal-tool",
      id: 10,
      visibility: "internal",
      private: true,
    });
    h.fake.addRepo("corp", { name: "legacy", id: 11, private: true, omitVisibility: true });
  });
  afterAll(() => h.close());

  it("shows non-public repositories with their access", async () => {
    const internal = await h.get("/repositories/corp/internal-tool?save_data=true");
    expect(internal.status).toBe(200);
    expect(internal.body.access).toBe("internal");
    const legacy = await h.get("/repositories/corp/legacy?save_data=false");
    expect(legacy.body.access).toBe("private");
    const local = await h.get("/repositories?username=corp&from_local=true");
    expect(local.body.repositories.map((r: { access: string }) => r.access)).toEqual(["internal"]);
  });

  it("hides the saved non-public repositories from a replica that does not allow them", async () => {
    h.fake.addUser({ login: "agency", id: 2 });
    h.fake.addRepo("agency", { name: "hidden", id: 20, visibility: "internal", private: true });
    h.fake.addRepo("agency", { name: "open-tool", id: 21 });
    expect((await h.get("/repositories/agency/hidden?save_data=true")).status).toBe(200);
    expect((await h.get("/repositories/agency/open-tool?save_data=true")).status).toBe(200);
    const strict = await startInProcessService({
      database: h.test.database,
      githubUrl: h.fake.url,
    });
    try {
      const local = await strict.get("/repositories?username=agency&from_local=true");
      expect(local.status).toBe(200);
      expect(local.body.repositories.map((r: { name: string }) => r.name)).toEqual(["open-tool"]);
    } finally {
      await strict.close();
    }
  });
});
