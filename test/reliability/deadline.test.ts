import { request } from "undici";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { type Harness, startHarness } from "../helpers/harness.js";

// The settings every bound below is derived from, as docs/reliability.md's "An overall
// deadline" states them.
const TIMEOUT_MS = 1_000; // GITHUB_TIMEOUT_MS
const LISTING_TIMEOUT_MS = 4_000; // GITHUB_LISTING_TIMEOUT_MS
const PAGE_CONCURRENCY = 2; // GITHUB_PAGE_CONCURRENCY
// Every GitHub answer comes just inside its timeout.
const LATENCY_MS = 700;
// Time the machine may add to a bound: timers, parsing, a busy CI. A hang or a missing bound
// overshoots it by seconds.
const SLACK_MS = 1_500;
// A timer may fire a little early by the clock performance.now() reads.
const EARLY_MS = 50;
// The database's own bounds (src/db/database.ts): a connection within 3 s, a query within 3 s.
const DATABASE_BOUND_MS = 3_000 + 3_000;

/** A listing's rounds of GitHub requests: the account with the first page, then the rest. */
const rounds = (pages: number) => 1 + Math.ceil((pages - 1) / PAGE_CONCURRENCY);
/** What any listing is answered within: a wait for its turn, then its own GitHub time. */
const LISTING_BOUND_MS = TIMEOUT_MS + LISTING_TIMEOUT_MS;

const TOKEN = "ghp_deadlineTestToken";
const PROBLEM = "application/problem+json; charset=utf-8";

/**
 * Every route against a GitHub that answers each request just inside GITHUB_TIMEOUT_MS: each
 * answer comes within the bound its settings give, and GitHub is asked only what fits in it.
 */
describe("the overall deadline of every request", () => {
  let h: Harness;
  const ids = new Map<string, number>();
  /** GitHub requests for an account and its listing: by login, and the pages' links by id. */
  const requestsFor = (login: string) => {
    const own = new RegExp(`^/(users/${login}|user/${ids.get(login)})(/|\\?|$)`);
    return h.fake.requests.filter((entry) => own.test(entry.path)).length;
  };

  beforeAll(async () => {
    h = await startHarness({
      backend: "postgres",
      env: {
        GITHUB_TOKEN: TOKEN,
        GITHUB_TIMEOUT_MS: String(TIMEOUT_MS),
        GITHUB_LISTING_TIMEOUT_MS: String(LISTING_TIMEOUT_MS),
        GITHUB_PAGE_CONCURRENCY: String(PAGE_CONCURRENCY),
        GITHUB_LISTINGS_AT_ONCE: "1",
        GITHUB_LISTING_QUEUE: "1",
      },
    });
    for (const login of ["fits", "queued-a", "queued-b", "queued-c"]) {
      ids.set(login, h.fake.addUser({ login, repoCount: 500 }).id);
    }
    ids.set("endless", h.fake.addUser({ login: "endless", repoCount: 1_500 }).id);
    h.fake.addUser({ login: "owner" });
    for (const name of ["plain", "saved", "renamed-from", "failing"]) {
      h.fake.addRepo("owner", { name });
    }
    h.fake.renameRepo("owner", "renamed-from", "renamed-to");
    // The first use of each code path, in the fake and in the service, costs compiling it; on a
    // busy machine that ate the margin between GitHub's latency and its timeout. So the fake
    // builds every answer once, and one listing and one details request go through first.
    h.fake.addUser({ login: "warm-up", repoCount: 200 });
    h.fake.addRepo("warm-up", { name: "warm-up" });
    const headers = { authorization: `Bearer ${TOKEN}` };
    const render = async (url: string) => {
      const answer = await request(url, { headers });
      await answer.body.dump();
      return answer.headers.link as string | undefined;
    };
    for (const login of [...ids.keys(), "warm-up"]) {
      await render(`${h.fake.url}/users/${login}`);
      // The pages at the URLs the service asks for: the first by login, the rest as Link says.
      const link = await render(`${h.fake.url}/users/${login}/repos?type=owner&per_page=100`);
      const last = new URL(/<([^>]+)>; rel="last"/.exec(link ?? "")?.[1] ?? h.fake.url);
      for (let page = 2; page <= Number(last.searchParams.get("page")); page++) {
        last.searchParams.set("page", String(page));
        await render(last.href);
      }
    }
    expect((await h.get("/repositories?username=warm-up")).status).toBe(200);
    expect((await h.get("/repositories/warm-up/warm-up?save_data=false")).status).toBe(200);
    h.fake.setRateLimit(5_000);
    h.fake.resetRequests();
  }, 30_000);
  afterAll(() => h.close());
  beforeEach(() => {
    h.fake.latencyMs = LATENCY_MS;
    h.fake.clearFaults();
  });

  it("answers a listing within its rounds × GITHUB_TIMEOUT_MS", async () => {
    const pages = 5;
    const answer = await h.get("/repositories?username=fits");
    expect(answer.status).toBe(200);
    expect(answer.body.repositories).toHaveLength(500);
    // The account and five pages, in three rounds of GitHub's full latency.
    expect(requestsFor("fits")).toBe(1 + pages);
    expect(answer.elapsedMs).toBeGreaterThanOrEqual(rounds(pages) * LATENCY_MS - EARLY_MS);
    expect(answer.elapsedMs).toBeLessThan(rounds(pages) * TIMEOUT_MS + SLACK_MS);
  });

  it("cuts a listing off at GITHUB_LISTING_TIMEOUT_MS with a 504, and asks GitHub nothing more", async () => {
    // 15 pages: eight rounds, 6.8 s of GitHub's time, more than the listing is given.
    expect(rounds(15) * LATENCY_MS).toBeGreaterThan(LISTING_TIMEOUT_MS);
    const answer = await h.get("/repositories?username=endless");
    expect(answer.status).toBe(504);
    expect(answer.headers["content-type"]).toBe(PROBLEM);
    expect(answer.body.type).toBe("urn:problem:github-timeout");
    expect(answer.body.detail).toContain(`within ${LISTING_TIMEOUT_MS} ms`);
    expect(answer.elapsedMs).toBeGreaterThanOrEqual(LISTING_TIMEOUT_MS - EARLY_MS);
    expect(answer.elapsedMs).toBeLessThan(LISTING_BOUND_MS + SLACK_MS);
    const askedByDeadline = requestsFor("endless");
    // What was sent before the deadline: the rounds that started within it, at most.
    expect(askedByDeadline).toBeLessThanOrEqual(
      2 + PAGE_CONCURRENCY * Math.ceil(LISTING_TIMEOUT_MS / LATENCY_MS),
    );
    // One GitHub latency later, a cancelled listing has still asked nothing more.
    expect((await h.get("/repositories/owner/plain?save_data=false")).status).toBe(200);
    expect(requestsFor("endless")).toBe(askedByDeadline);
  });

  it("answers listings beyond GITHUB_LISTINGS_AT_ONCE 503 busy within GITHUB_TIMEOUT_MS of waiting, asking GitHub nothing for them", async () => {
    const first = h.get("/repositories?username=queued-a");
    // The first listing holds the one turn once GitHub has its first request.
    await vi.waitUntil(() => requestsFor("queued-a") > 0, { timeout: 5_000, interval: 5 });
    const [refused, waited] = (
      await Promise.all([
        h.get("/repositories?username=queued-b"),
        h.get("/repositories?username=queued-c"),
      ])
    ).sort((a, b) => a.elapsedMs - b.elapsedMs);
    expect((await first).status).toBe(200);
    for (const answer of [waited, refused]) {
      expect(answer?.status).toBe(503);
      expect(answer?.body.type).toBe("urn:problem:service-busy");
      expect(answer?.headers["retry-after"]).toBe("2");
      expect(answer?.elapsedMs).toBeLessThan(LISTING_BOUND_MS + SLACK_MS);
    }
    // One found the queue full and was told at once; the other waited its bound for a turn.
    expect(refused?.elapsedMs).toBeLessThan(SLACK_MS);
    expect(waited?.elapsedMs).toBeGreaterThanOrEqual(TIMEOUT_MS - EARLY_MS);
    expect(waited?.elapsedMs).toBeLessThan(TIMEOUT_MS + SLACK_MS);
    expect(requestsFor("queued-b") + requestsFor("queued-c")).toBe(0);
  });

  it("answers details within GITHUB_TIMEOUT_MS, with one GitHub request", async () => {
    h.fake.resetRequests();
    const answer = await h.get("/repositories/owner/saved?save_data=false");
    expect(answer.status).toBe(200);
    expect(answer.elapsedMs).toBeGreaterThanOrEqual(LATENCY_MS - EARLY_MS);
    expect(answer.elapsedMs).toBeLessThan(TIMEOUT_MS + SLACK_MS);
    expect(h.fake.requests.map((entry) => entry.path)).toEqual(["/repos/owner/saved"]);
  });

  it("gives a redirect no time of its own: the hops share one GITHUB_TIMEOUT_MS", async () => {
    h.fake.resetRequests();
    const answer = await h.get("/repositories/owner/renamed-from?save_data=false");
    // Two hops of 700 ms do not fit in 1,000.
    expect(answer.status).toBe(504);
    expect(answer.body.type).toBe("urn:problem:github-timeout");
    expect(answer.elapsedMs).toBeGreaterThanOrEqual(TIMEOUT_MS - EARLY_MS);
    expect(answer.elapsedMs).toBeLessThan(TIMEOUT_MS + SLACK_MS);
    expect(h.fake.requests).toHaveLength(2);
    expect(h.fake.requests[1]?.path).toMatch(/^\/repositories\/\d+$/);
  });

  it("gives a retry no time of its own: the attempts share one GITHUB_TIMEOUT_MS", async () => {
    h.fake.resetRequests();
    h.fake.injectFault({ kind: "5xx-always", status: 503, path: "/repos/owner/failing" });
    const answer = await h.get("/repositories/owner/failing?save_data=true");
    // The first 503 came at 700 ms; the retry could not finish within the 1,000.
    expect(answer.status).toBe(504);
    expect(answer.elapsedMs).toBeGreaterThanOrEqual(TIMEOUT_MS - EARLY_MS);
    expect(answer.elapsedMs).toBeLessThan(TIMEOUT_MS + SLACK_MS);
    expect(h.fake.requests).toHaveLength(2);
  });

  it("answers a save within GITHUB_TIMEOUT_MS and the database's bound", async () => {
    h.fake.resetRequests();
    const answer = await h.get("/repositories/owner/saved?save_data=true");
    expect(answer.status).toBe(200);
    expect(answer.body.saved).toBe(true);
    expect(answer.elapsedMs).toBeLessThan(TIMEOUT_MS + DATABASE_BOUND_MS + SLACK_MS);
    expect(h.fake.requests.length).toBeLessThanOrEqual(1);
  });

  it("answers what needs only the database within its bound, asking GitHub nothing", async () => {
    h.fake.resetRequests();
    for (const path of ["/repositories?username=owner&from_local=true", "/ready", "/health"]) {
      const answer = await h.get(path);
      expect(answer.status, path).toBe(200);
      expect(answer.elapsedMs, path).toBeLessThan(DATABASE_BOUND_MS + SLACK_MS);
    }
    expect(h.fake.requests).toEqual([]);
    expect(h.logs.filter((line) => JSON.parse(line).level >= 50)).toEqual([]);
  });
});
