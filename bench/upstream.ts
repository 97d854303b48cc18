import { Agent, request } from "undici";
import type { GitHubListing } from "../src/github/client.js";
import { GitHubClient } from "../src/github/client.js";
import type { FakeGitHub } from "../test/fake-github/server.js";

/** The token the service and the bench send, so the fake counts them in its 5,000-an-hour window. */
export const BENCH_TOKEN = "bench-token";

const HEADERS = {
  accept: "application/vnd.github+json",
  authorization: `Bearer ${BENCH_TOKEN}`,
  "user-agent": "bench",
};

/**
 * Direct access to the fake GitHub from the bench, through the service's own client but on a
 * plain keep-alive pool: no cache, no coalescing, so nothing here warms the service.
 */
export class Upstream {
  private readonly agent = new Agent({ keepAliveTimeout: 30_000 });
  private readonly client: GitHubClient;

  constructor(private readonly fake: FakeGitHub) {
    this.client = new GitHubClient({
      baseUrl: fake.url,
      token: BENCH_TOKEN,
      timeoutMs: 60_000,
      dispatcher: this.agent,
    });
  }

  /** The whole listing, fetched with the fake's latency switched off. */
  async listingWithoutLatency(login: string): Promise<GitHubListing> {
    const latency = this.fake.latencyMs;
    this.fake.latencyMs = 0;
    try {
      return await this.client.listRepositories(login);
    } finally {
      this.fake.latencyMs = latency;
    }
  }

  /**
   * What a naive client does: the account, then every page one after another, each body read
   * and parsed. Returns the milliseconds it took.
   */
  async sequentialListing(login: string, pages: number): Promise<number> {
    const started = performance.now();
    const paths = [`/users/${login}`];
    for (let page = 1; page <= pages; page++) {
      paths.push(`/users/${login}/repos?type=owner&per_page=100&page=${page}`);
    }
    for (const path of paths) await this.fetchParsed(path);
    return performance.now() - started;
  }

  /**
   * The least any client can take against this fake: the account and the first page together,
   * then every other page at once; two round trips plus the fake's own CPU time, which is
   * spent on one thread (it sorts the owner's repositories for every page it answers).
   */
  async parallelListing(login: string, pages: number): Promise<number> {
    const started = performance.now();
    const listing = `/users/${login}/repos?type=owner&per_page=100`;
    await Promise.all([this.fetchParsed(`/users/${login}`), this.fetchParsed(listing)]);
    await Promise.all(
      Array.from({ length: pages - 1 }, (_, index) =>
        this.fetchParsed(`${listing}&page=${index + 2}`),
      ),
    );
    return performance.now() - started;
  }

  private async fetchParsed(path: string): Promise<unknown> {
    const response = await request(`${this.fake.url}${path}`, {
      headers: HEADERS,
      dispatcher: this.agent,
    });
    const body = await response.body.text();
    if (response.statusCode !== 200) throw new Error(`${path} answered ${response.statusCode}`);
    return JSON.parse(body);
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}
