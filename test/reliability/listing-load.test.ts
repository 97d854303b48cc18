import { Agent, request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeGitHub } from "../fake-github/server.js";
import { createPostgresDatabase } from "../helpers/databases.js";
import { ensureBuilt, type ServerProcess, startServerProcess } from "../helpers/server-process.js";

const TOKEN = "ghp_listingLoadTestToken";
const LISTINGS = 24;
const REPOSITORIES = 1_000;
// A reliability bound, not a timing goal: before listings were bounded, /health stalled for up
// to 3.4 s under such a load. docs/reliability.md gives the figures measured.
const HEALTH_BOUND_MS = 1_000;

async function get(agent: Agent, url: string) {
  const started = performance.now();
  const response = await request(url, { dispatcher: agent, signal: AbortSignal.timeout(30_000) });
  const text = await response.body.text();
  return {
    status: response.statusCode,
    headers: response.headers,
    text,
    ms: performance.now() - started,
  };
}

/**
 * Many distinct big listings at once against the built server, a process of its own as
 * deployed, so that the fake GitHub's work does not share its event loop.
 */
describe("many big listings at once", () => {
  let fake: FakeGitHub;
  let database: { url: string; drop(): Promise<void> };
  const agent = new Agent({ connections: 64 });
  const started: ServerProcess[] = [];
  const logins = Array.from({ length: LISTINGS }, (_, index) => `big-${index}`);

  beforeAll(async () => {
    ensureBuilt();
    database = await createPostgresDatabase();
    fake = await FakeGitHub.start();
    for (const login of logins) fake.addUser({ login, repoCount: REPOSITORIES });
    // The fake builds each page once; building them first keeps its CPU out of the measurement.
    for (const login of logins) {
      for (let page = 1; page <= REPOSITORIES / 100; page++) {
        const url = `${fake.url}/users/${login}/repos?type=owner&per_page=100&page=${page}`;
        await (await request(url, { headers: { authorization: `Bearer ${TOKEN}` } })).body.dump();
      }
    }
    fake.setRateLimit(5_000);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(started.map((server) => server.stop()));
    await agent.close();
    await fake?.close();
    await database?.drop();
  });

  const start = async (env: Record<string, string>) => {
    const server = await startServerProcess({
      GITHUB_API_URL: fake.url,
      GITHUB_TOKEN: TOKEN,
      GITHUB_TIMEOUT_MS: "3000",
      DATABASE_URL: database.url,
      ...env,
    });
    started.push(server);
    return server;
  };

  it("answers every listing 200 or 503 busy, never 504, and /health within its bound meanwhile", async () => {
    fake.latencyMs = 20;
    const server = await start({});
    let done = false;
    const health: number[] = [];
    const probe = (async () => {
      while (!done) health.push((await get(agent, `${server.url}/health`)).ms);
    })();
    const answers = await Promise.all(
      logins.map((login) => get(agent, `${server.url}/repositories?username=${login}`)),
    );
    done = true;
    await probe;
    const statuses = answers.map((answer) => answer.status);
    expect(statuses.filter((status) => status !== 200 && status !== 503)).toEqual([]);
    expect(statuses.filter((status) => status === 200).length).toBeGreaterThan(0);
    expect(health.length).toBeGreaterThan(5);
    expect(Math.max(...health)).toBeLessThan(HEALTH_BOUND_MS);
  }, 60_000);

  it("tells callers beyond the queue at once that the service is busy, asking GitHub nothing for them", async () => {
    fake.latencyMs = 300;
    const server = await start({ GITHUB_LISTINGS_AT_ONCE: "1", GITHUB_LISTING_QUEUE: "2" });
    fake.resetRequests();
    const answers = await Promise.all(
      logins.slice(0, 8).map((login) => get(agent, `${server.url}/repositories?username=${login}`)),
    );
    const busy = answers.filter((answer) => answer.status === 503);
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(3);
    expect(busy).toHaveLength(5);
    for (const answer of busy) {
      expect(answer.headers["retry-after"]).toBe("2");
      expect(JSON.parse(answer.text).type).toBe("urn:problem:service-busy");
      expect(answer.ms).toBeLessThan(1_000);
    }
    // Three listings of an account and ten pages each; none for the five told to come back.
    expect(fake.requests).toHaveLength(3 * 11);
  }, 60_000);
});
