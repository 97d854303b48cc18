import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type Database, openDatabase } from "../../src/db/database.js";
import { openRedis } from "../../src/redis.js";
import { FakeGitHub } from "../fake-github/server.js";
import { createPostgresDatabase } from "../helpers/databases.js";
import { type InProcessService, startInProcessService } from "../helpers/in-process-service.js";

const ACCOUNTS = 20;
const REPOSITORIES = 300;
const TOKEN = "ghp_sharedCacheTestToken";
// Databases of their own on the machine's Redis, emptied before use.
const REDIS_BASE = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379/5";
const redisDb = (db: number) => {
  const url = new URL(REDIS_BASE);
  url.pathname = `/${db}`;
  return url.toString();
};

/**
 * Replicas as a deployment runs them with REDIS_URL: each its own process state (here, its own
 * app, pool and Redis connection in this process), one Postgres, one Redis. What GitHub counts
 * against the rate limit is every answer but a 304.
 */
describe("replicas sharing one Redis", () => {
  let fake: FakeGitHub;
  let postgres: { url: string; drop(): Promise<void> };
  const opened: Array<{ service: InProcessService; database: Database }> = [];
  const accounts = Array.from({ length: ACCOUNTS }, (_, index) => `shared-${index}`);

  async function startReplicas(count: number, redisUrl: string, env: Record<string, string> = {}) {
    return Promise.all(
      Array.from({ length: count }, async () => {
        const database = openDatabase({ url: postgres.url });
        const service = await startInProcessService({
          database,
          githubUrl: fake.url,
          env: { GITHUB_TOKEN: TOKEN, GITHUB_TIMEOUT_MS: "10000", REDIS_URL: redisUrl, ...env },
        });
        opened.push({ service, database });
        return service;
      }),
    );
  }

  async function stop(replicas: InProcessService[]) {
    for (const replica of replicas) {
      const index = opened.findIndex((entry) => entry.service === replica);
      const [entry] = opened.splice(index, 1);
      await entry?.service.close();
      await entry?.database.close();
    }
  }

  /** Each replica in turn asks for every account; returns the requests that cost rate limit. */
  async function round(replicas: InProcessService[]) {
    fake.resetRequests();
    for (const replica of replicas) {
      for (const account of accounts) {
        const answer = await replica.get(`/repositories/?username=${account}`);
        expect(answer.status).toBe(200);
        expect(answer.body.repositories).toHaveLength(REPOSITORIES);
      }
    }
    return {
      costly: fake.requests.filter((request) => request.status !== 304).length,
      revalidated: fake.requests.filter((request) => request.status === 304).length,
    };
  }

  /** Two rounds with GitHub's max-age (60 s) run out between them; only Date is faked. */
  async function twoRounds(replicas: InProcessService[]) {
    const first = await round(replicas);
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      vi.setSystemTime(Date.now() + 61_000);
      const second = await round(replicas);
      return { first, second };
    } finally {
      vi.useRealTimers();
    }
  }

  beforeAll(async () => {
    fake = await FakeGitHub.start();
    for (const login of accounts) fake.addUser({ login, repoCount: REPOSITORIES });
    postgres = await createPostgresDatabase();
    const migrator = openDatabase({ url: postgres.url });
    await migrator.migrate();
    await migrator.close();
    const admin = openRedis(REDIS_BASE);
    await vi.waitFor(() => expect(admin.status).toBe("ready"), { timeout: 5_000 });
    for (const db of [6, 7, 8]) {
      await admin.select(db);
      await admin.flushdb();
    }
    await admin.quit();
  }, 60_000);

  afterAll(async () => {
    await stop(opened.map((entry) => entry.service));
    await fake?.close();
    await postgres?.drop();
  });

  it("spends GitHub's rate limit for three replicas as for one, and nothing after all three restart", async () => {
    const single = await startReplicas(1, redisDb(6));
    const alone = await twoRounds(single);
    await stop(single);

    const three = await startReplicas(3, redisDb(7));
    const shared = await twoRounds(three);
    // One account and three pages per account, fetched once for all replicas...
    expect(shared.first.costly).toBe(ACCOUNTS * 4);
    expect(shared.first.costly).toBe(alone.first.costly);
    // ...and once stale, revalidated once: every answer a 304.
    expect(shared.second).toEqual({ costly: 0, revalidated: ACCOUNTS * 4 });
    expect(shared.second).toEqual(alone.second);

    await stop(three);
    const restarted = await startReplicas(3, redisDb(7));
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      vi.setSystemTime(Date.now() + 122_000);
      const third = await round(restarted);
      expect(third.costly).toBe(0);
    } finally {
      vi.useRealTimers();
    }
    await stop(restarted);
  }, 120_000);

  it("starts and answers from GitHub when Redis is away, rate limit included", async () => {
    // A port nothing listens on: connections are refused at once.
    const [replica] = (await startReplicas(1, "redis://127.0.0.1:9/0", {
      RATE_LIMIT_PER_MINUTE: "100",
    })) as [InProcessService];
    fake.resetRequests();
    for (let round = 0; round < 2; round++) {
      expect((await replica.get(`/repositories/?username=${accounts[0]}`)).status).toBe(200);
    }
    // Without a cache each listing costs its account and three pages again.
    expect(fake.requests).toHaveLength(8);
    const metrics = (await replica.get("/metrics")).text;
    expect(metrics).toMatch(/^github_cache_store_up\{store="redis"\} 0$/m);
    expect(replica.logs.filter((line) => line.includes("GitHub cache unavailable"))).toHaveLength(
      1,
    );
    await stop([replica]);
  });

  it("counts RATE_LIMIT_PER_MINUTE across replicas", async () => {
    const replicas = await startReplicas(3, redisDb(8), { RATE_LIMIT_PER_MINUTE: "4" });
    const statuses: number[] = [];
    for (let index = 0; index < 6; index++) {
      const replica = replicas[index % replicas.length] as InProcessService;
      statuses.push((await replica.get("/repositories/shared-0/none?save_data=false")).status);
    }
    expect(statuses.filter((status) => status === 429)).toHaveLength(2);
    await stop(replicas);
  });
});
