import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { GitHubCache, MemoryStore } from "../../src/github/cache.js";
import { GitHubClient } from "../../src/github/client.js";
import { createGitHubDispatcher } from "../../src/github/dispatcher.js";
import {
  GitHubBadGatewayError,
  GitHubNotFoundError,
  GitHubRateLimitError,
  GitHubTimeoutError,
} from "../../src/github/errors.js";
import { FakeGitHub } from "../fake-github/server.js";

describe("GitHubClient against the fake GitHub", () => {
  let fake: FakeGitHub;
  let dispatcher: ReturnType<typeof createGitHubDispatcher>;
  let client: GitHubClient;

  const makeClient = (timeoutMs = 5_000, token?: string) =>
    new GitHubClient({ baseUrl: fake.url, token, timeoutMs, dispatcher });

  beforeAll(async () => {
    fake = await FakeGitHub.start();
    fake.addUser({ login: "thousand", id: 1000, repoCount: 1000 });
    fake.addUser({ login: "many-pages", repoCount: 1_500 });
    fake.addUser({ login: "octocat", id: 1 });
    fake.addRepo("octocat", { name: "Hello-World", id: 10 });
  });
  afterAll(() => fake.close());
  beforeEach(() => {
    dispatcher = createGitHubDispatcher({ timeoutMs: 5_000, retryBaseDelayMs: 10 });
    client = makeClient();
    fake.clearFaults();
    fake.resetRequests();
    fake.latencyMs = 0;
    // A full window per test, so no test depends on how many requests the ones before it spent.
    fake.setRateLimit(5000);
  });
  afterEach(() => dispatcher.close());

  it("fetches all ten pages of a 1,000-repository user, 100 at a time", async () => {
    const { user, repositories } = await client.listRepositories("thousand");
    expect(user).toMatchObject({ id: 1000, login: "thousand" });
    expect(repositories).toHaveLength(1000);
    expect(new Set(repositories.map((r) => r.id)).size).toBe(1000);
    const pages = fake.requests.filter((r) => r.path.includes("/repos"));
    expect(pages).toHaveLength(10);
    expect(
      pages.every((r) => new URL(r.path, fake.url).searchParams.get("per_page") === "100"),
    ).toBe(true);
  });

  /**
   * Lists `login` with 300 ms of upstream latency, so that requests sent together are in flight
   * together, and reads from each request's arrival what was in flight with it.
   */
  async function listInFlight(login: string) {
    fake.latencyMs = 300;
    await makeClient(10_000).listRepositories(login);
    const isPage = (path: string) => /[?&]page=\d/.test(path);
    const firstTwoTogether = fake.requests[1]?.inFlightOnArrival.length === 2;
    const mostPagesInFlight = Math.max(
      ...fake.requests.map((r) => r.inFlightOnArrival.filter(isPage).length),
    );
    return { firstTwoTogether, mostPagesInFlight };
  }

  it("sends the account and page 1 together, then all nine other pages of 1,000 repositories at once", async () => {
    const { firstTwoTogether, mostPagesInFlight } = await listInFlight("thousand");
    expect(firstTwoTogether).toBe(true);
    expect(
      fake.requests
        .slice(0, 2)
        .map((r) => r.path.split("?")[0])
        .sort(),
    ).toEqual(["/users/thousand", "/users/thousand/repos"]);
    expect(mostPagesInFlight).toBe(9);
    expect(fake.requests).toHaveLength(2 + 9);
  });

  it("keeps at most ten pages in flight", async () => {
    fake.addUser({ login: "fifteen-hundred", id: 1500, repoCount: 1500 });
    const { mostPagesInFlight } = await listInFlight("fifteen-hundred");
    expect(mostPagesInFlight).toBe(10);
    expect(fake.requests).toHaveLength(2 + 14);
  });

  it("lists an account of 1,500 repositories for a caller that may leave without a listener-leak warning", async () => {
    fake.latencyMs = 20;
    const warnings: Error[] = [];
    const warn = (warning: Error) => warnings.push(warning);
    process.on("warning", warn);
    try {
      const caller = new AbortController();
      const { repositories } = await client.listRepositories("many-pages", caller.signal);
      expect(repositories).toHaveLength(1_500);
      // Node emits the warning on the next tick of the listener that passed the limit.
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off("warning", warn);
    }
    expect(warnings.map((warning) => warning.name)).not.toContain("MaxListenersExceededWarning");
  });

  it("gives up on a listing at its listing timeout, cancelling what it still waits for", async () => {
    fake.latencyMs = 100;
    const patient = new GitHubClient({
      baseUrl: fake.url,
      timeoutMs: 5_000,
      listingTimeoutMs: 150,
      pageConcurrency: 1,
      dispatcher,
    });
    await expect(patient.listRepositories("thousand")).rejects.toThrow(
      new GitHubTimeoutError('GitHub did not deliver the listing of "thousand" within 150 ms'),
    );
    // The account and the first page, then the second page; none after the deadline.
    expect(fake.requests.length).toBeLessThanOrEqual(3);
  });

  it("shares one listing between identical callers in flight", async () => {
    fake.latencyMs = 50;
    const listings = await Promise.all(
      Array.from({ length: 20 }, () => client.listRepositories("Thousand")),
    );
    for (const listing of listings) expect(listing).toEqual(listings[0]);
    expect(fake.requests).toHaveLength(11);
  });

  it("answers a user with no repositories with an empty list", async () => {
    fake.addUser({ login: "nothing", id: 2 });
    expect((await client.listRepositories("nothing")).repositories).toEqual([]);
  });

  it("follows a 301 for a renamed repository", async () => {
    fake.addRepo("octocat", { name: "old-name", id: 11 });
    fake.renameRepo("octocat", "old-name", "new-name");
    const repository = await client.getRepository("octocat", "old-name");
    expect(repository).toMatchObject({ id: 11, name: "new-name" });
    expect(fake.requests.map((r) => r.status)).toEqual([301, 200]);
  });

  it("follows a 301 for a transferred repository", async () => {
    fake.addUser({ login: "receiver", id: 3 });
    fake.addRepo("octocat", { name: "given", id: 12 });
    fake.transferRepo("octocat", "given", "receiver");
    expect(await client.getRepository("octocat", "given")).toMatchObject({
      id: 12,
      full_name: "receiver/given",
      owner: { login: "receiver" },
    });
  });

  it("raises GitHubNotFoundError for 404s", async () => {
    await expect(client.getRepository("octocat", "missing")).rejects.toBeInstanceOf(
      GitHubNotFoundError,
    );
    await expect(client.listRepositories("ghost")).rejects.toBeInstanceOf(GitHubNotFoundError);
  });

  it("retries a connection reset and a 5xx, at most twice", async () => {
    fake.injectFault({ kind: "reset", path: "/users/octocat", times: 1 });
    expect(await client.getUser("octocat")).toMatchObject({ id: 1 });
    fake.injectFault({ kind: "5xx-always", path: "/repos/octocat/Hello-World" });
    await expect(client.getRepository("octocat", "Hello-World")).rejects.toBeInstanceOf(
      GitHubBadGatewayError,
    );
    expect(fake.requests.filter((r) => r.path === "/repos/octocat/Hello-World")).toHaveLength(3);
  });

  it.each([500, 502, 503, 504])("retries a %i once and answers normally", async (status) => {
    fake.injectFault({ kind: "5xx-once", status, path: "/repos/octocat/Hello-World" });
    expect(await client.getRepository("octocat", "Hello-World")).toMatchObject({ id: 10 });
    expect(
      fake.requests.filter((r) => r.path === "/repos/octocat/Hello-World").map((r) => r.status),
    ).toEqual([status, 200]);
  });

  it("does not retry a 501, which asking again cannot mend", async () => {
    fake.injectFault({ kind: "5xx-once", status: 501, path: "/repos/octocat/Hello-World" });
    await expect(client.getRepository("octocat", "Hello-World")).rejects.toBeInstanceOf(
      GitHubBadGatewayError,
    );
    expect(fake.requests.map((r) => r.status)).toEqual([501]);
  });

  it("does not retry a 404 or a rate limit", async () => {
    fake.injectFault({ kind: "rate-limit", path: "/users/octocat" });
    await expect(client.getUser("ghost")).rejects.toBeInstanceOf(GitHubNotFoundError);
    await expect(client.getUser("octocat")).rejects.toBeInstanceOf(GitHubRateLimitError);
    expect(fake.requests).toHaveLength(2);
  });

  // The fake never answers and the pool's own timeouts are a minute, so only the client's
  // 300 ms bound can end the request before the test's bound of 10 s fails it.
  it("gives up on a hanging request after the timeout", { timeout: 10_000 }, async () => {
    fake.injectFault({ kind: "hang", path: "/users/octocat" });
    const patient = createGitHubDispatcher({ timeoutMs: 60_000 });
    const hanging = new GitHubClient({ baseUrl: fake.url, timeoutMs: 300, dispatcher: patient });
    try {
      await expect(hanging.getUser("octocat")).rejects.toBeInstanceOf(GitHubTimeoutError);
    } finally {
      await patient.destroy();
    }
    // A timeout is not retried: the request used up its time.
    expect(fake.requests).toHaveLength(1);
  });

  it("reports the seconds until the primary rate limit resets", async () => {
    fake.setRateLimit(0, Math.floor(Date.now() / 1000) + 30);
    const error = await client.getUser("octocat").catch((caught: unknown) => caught);
    fake.setRateLimit(5000);
    expect(error).toBeInstanceOf(GitHubRateLimitError);
    expect((error as GitHubRateLimitError).retryAfterSeconds).toBeGreaterThanOrEqual(29);
    expect((error as GitHubRateLimitError).retryAfterSeconds).toBeLessThanOrEqual(31);
  });

  it("reports GitHub's Retry-After for a secondary rate limit", async () => {
    fake.injectFault({ kind: "secondary-rate-limit", retryAfterSeconds: 17 });
    const error = await client.getUser("octocat").catch((caught: unknown) => caught);
    expect((error as GitHubRateLimitError).retryAfterSeconds).toBe(17);
  });

  it("rejects malformed, truncated and looping answers as bad gateway", async () => {
    fake.injectFault({ kind: "malformed", path: "/users/octocat", times: 1 });
    await expect(client.getUser("octocat")).rejects.toBeInstanceOf(GitHubBadGatewayError);
    fake.injectFault({ kind: "truncated", path: "/repos/octocat/Hello-World" });
    await expect(client.getRepository("octocat", "Hello-World")).rejects.toBeInstanceOf(
      GitHubBadGatewayError,
    );
    fake.clearFaults();
    fake.injectFault({ kind: "redirect-loop", path: "/repos/octocat/Hello-World" });
    await expect(client.getRepository("octocat", "Hello-World")).rejects.toBeInstanceOf(
      GitHubBadGatewayError,
    );
  });

  it("answers a repeated request from its cache within GitHub's max-age", async () => {
    await client.getRepository("octocat", "Hello-World");
    await client.getRepository("octocat", "Hello-World");
    await client.getRepository("octocat", "Hello-World");
    expect(fake.requests.filter((r) => r.path === "/repos/octocat/Hello-World")).toHaveLength(1);
  });

  it("revalidates a stale answer with If-None-Match and reuses the stored body on 304", async () => {
    const first = await client.getRepository("octocat", "Hello-World");
    // Only Date is faked: GitHub's max-age=60 runs out while sockets and timers stay real.
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      vi.setSystemTime(Date.now() + 61_000);
      expect(await client.getRepository("octocat", "Hello-World")).toEqual(first);
    } finally {
      vi.useRealTimers();
    }
    const hits = fake.requests.filter((r) => r.path === "/repos/octocat/Hello-World");
    expect(hits.map((r) => r.status)).toEqual([200, 304]);
    expect(hits[1]?.headers["if-none-match"]).toMatch(/^W\/"[0-9a-f]{64}"$/);
  });

  it("serves a fresh listing again without parsing it anew, and revalidates its pages once stale", async () => {
    const first = await client.listRepositories("thousand");
    expect(Object.keys(first.repositories[0] ?? {}).length).toBeLessThan(15);
    fake.resetRequests();
    const second = await client.listRepositories("THOUSAND");
    // The kept, frozen repositories themselves: nothing was fetched or parsed again.
    expect(second.repositories[0]).toBe(first.repositories[0]);
    expect(second).toEqual(first);
    expect(fake.requests).toHaveLength(0);
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      vi.setSystemTime(Date.now() + 61_000);
      const again = await client.listRepositories("thousand");
      expect(again).toEqual(first);
    } finally {
      vi.useRealTimers();
    }
    expect(fake.requests.map((r) => r.status)).toEqual(Array(11).fill(304));
  });

  it("asks again only for the listing pages that changed once a listing is stale", async () => {
    fake.addUser({ login: "changing", repoCount: 250 });
    const client = makeClient(5_000, "token-changing");
    const first = await client.listRepositories("changing");
    const onPageTwo = first.repositories[150]?.name as string;
    fake.updateRepo("changing", onPageTwo, { stargazers_count: 4242 });
    fake.resetRequests();
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      vi.setSystemTime(Date.now() + 61_000);
      const again = await client.listRepositories("changing");
      expect(again.repositories.find((r) => r.name === onPageTwo)?.stargazers_count).toBe(4242);
      expect(again.repositories).toHaveLength(250);
    } finally {
      vi.useRealTimers();
    }
    const pages = fake.requests
      .filter((r) => r.path.includes("/repos"))
      .map((r) => [new URL(r.path, fake.url).searchParams.get("page") ?? "1", r.status])
      .sort();
    expect(fake.requests).toHaveLength(4);
    expect(pages).toEqual([
      ["1", 304],
      ["2", 200],
      ["3", 304],
    ]);
  });

  it("keeps cached answers apart per token in one store", async () => {
    const store = new MemoryStore();
    const withToken = (token: string) =>
      new GitHubClient({
        baseUrl: fake.url,
        token,
        timeoutMs: 1_000,
        dispatcher,
        cache: new GitHubCache(store, { token }),
      });
    await withToken("token-a").getUser("octocat");
    await withToken("token-b").getUser("octocat");
    await withToken("token-a").getUser("octocat");
    expect(store.size.entries).toBe(2);
    expect(fake.requests.map((r) => r.headers.authorization)).toEqual([
      "Bearer token-a",
      "Bearer token-b",
    ]);
  });

  it("shares one upstream call between identical requests in flight", async () => {
    fake.latencyMs = 100;
    const results = await Promise.all(Array.from({ length: 20 }, () => client.getUser("octocat")));
    expect(new Set(results.map((user) => user.id))).toEqual(new Set([1]));
    expect(fake.requests).toHaveLength(1);
  });

  it("sends the token as a Bearer credential", async () => {
    await makeClient(1_000, "ghp_secret").getUser("octocat");
    expect(fake.requests[0]?.headers.authorization).toBe("Bearer ghp_secret");
    expect(fake.requests[0]?.headers.accept).toBe("application/vnd.github+json");
  });

  /** Runs `use` with a client of a stand-in GitHub on 127.0.0.1 that answers with `handle`. */
  async function withStandIn(
    handle: (request: IncomingMessage, response: ServerResponse, origin: string) => void,
    timeoutMs: number,
    use: (client: GitHubClient) => Promise<void>,
  ) {
    let origin = "";
    const server = createServer((request, response) => {
      response.setHeader("content-type", "application/json; charset=utf-8");
      if (request.url === "/users/x") response.end(JSON.stringify({ id: 1, login: "x" }));
      else handle(request, response, origin);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      await use(new GitHubClient({ baseUrl: origin, timeoutMs, dispatcher }));
    } finally {
      server.close();
    }
  }

  it("asks for the other pages while the first page's body is still arriving", async () => {
    // The stand-in holds back the end of page 1 until page 2 has been asked for, or for 2 s:
    // the pages after the first need only its Link header, not its body.
    const repository = (id: number) => ({
      id,
      name: `r${id}`,
      full_name: `x/r${id}`,
      owner: { id: 1, login: "x" },
      html_url: `https://github.com/x/r${id}`,
      private: false,
      created_at: null,
      updated_at: null,
    });
    let releaseFirstPage: () => void = () => {};
    const secondPageAsked = new Promise<void>((resolve) => {
      releaseFirstPage = resolve;
    });
    let secondPageBeforeFirstEnded = false;
    let firstPageEnded = false;
    const answer = (request: IncomingMessage, response: ServerResponse, origin: string) => {
      const page = Number(new URL(request.url ?? "/", origin).searchParams.get("page") ?? "1");
      if (page > 1) {
        secondPageBeforeFirstEnded ||= page === 2 && !firstPageEnded;
        if (page === 2) releaseFirstPage();
        response.end(JSON.stringify([repository(page)]));
        return;
      }
      response.setHeader("link", `<${origin}/user/1/repos?per_page=100&page=3>; rel="last"`);
      const body = JSON.stringify([repository(1)]);
      response.write(body.slice(0, 10));
      const timer = setTimeout(releaseFirstPage, 2_000);
      void secondPageAsked.then(() => {
        clearTimeout(timer);
        firstPageEnded = true;
        response.end(body.slice(10));
      });
    };
    await withStandIn(answer, 5_000, async (client) => {
      const { repositories } = await client.listRepositories("x");
      expect(repositories.map((r) => r.id)).toEqual([1, 2, 3]);
      expect(secondPageBeforeFirstEnded).toBe(true);
    });
  });

  it("refuses a pagination link that leaves the configured API", async () => {
    // A rel="last" on another origin must never receive the token: the stand-in sends one.
    const answer = (_request: IncomingMessage, response: ServerResponse) => {
      response.setHeader("link", '<http://203.0.113.1/user/1/repos?page=2>; rel="last"');
      response.end("[]");
    };
    await withStandIn(answer, 1_000, async (client) => {
      await expect(client.listRepositories("x")).rejects.toThrow(/outside its API/);
    });
  });
});
