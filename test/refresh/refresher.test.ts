import { sql } from "drizzle-orm";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { openDatabase } from "../../src/db/database.js";
import { FakeGitHub } from "../fake-github/server.js";
import { BACKENDS, createPostgresDatabase, listedAtMs, queryRows } from "../helpers/databases.js";
import { type Harness, startHarness } from "../helpers/harness.js";
import { type InProcessService, startInProcessService } from "../helpers/in-process-service.js";
import { TcpProxy } from "../reliability/tcp-proxy.js";

const TOKEN = "ghp_refresher_test_token_0123456789abcdef";
// Rounds start a second apart (the shortest tick); a row due is refreshed within a round or two.
const ROUND_BOUND_MS = 8_000;

const logLines = (service: InProcessService) => service.logs.map((line) => JSON.parse(line));
const errorsLogged = (service: InProcessService) =>
  logLines(service).filter((line) => line.level >= 50);

describe.each(BACKENDS)("the refresher on %s", (backend) => {
  let h: Harness;
  let fake: FakeGitHub;

  beforeAll(async () => {
    // GitHub's answers go stale at once, so every refresh asks GitHub (conditionally).
    fake = await FakeGitHub.start({ maxAgeSeconds: 0 });
    h = await startHarness({
      backend,
      fake,
      env: { REFRESH_INTERVAL_S: "1", GITHUB_TOKEN: TOKEN, GITHUB_TIMEOUT_MS: "2000" },
    });
  });
  afterAll(async () => {
    await h.close();
    await fake.close();
  });
  afterEach(() => {
    fake.clearFaults();
    expect(errorsLogged(h)).toEqual([]);
  });

  const local = async (login: string) =>
    (await h.get(`/repositories/?username=${login}&from_local=true`)).body;
  const listedAt = (id: number) => listedAtMs(h.test.database, id);
  /** Resolves once the account has been saved whole again after `since`. */
  const refreshedAfter = (id: number, since: number) =>
    vi.waitFor(async () => expect(await listedAt(id)).toBeGreaterThan(since), {
      timeout: ROUND_BOUND_MS,
      interval: 100,
    });

  it("brings GitHub's changes to an account saved whole into the local copy", async () => {
    fake.addUser({ login: "changing", id: 9101 });
    fake.addRepo("changing", { name: "starred", id: 91011, stargazers_count: 1 });
    fake.addRepo("changing", { name: "deleted", id: 91012 });
    expect((await h.get("/repositories/?username=changing&save_data=true")).status).toBe(200);

    fake.updateRepo("changing", "starred", { stargazers_count: 2 });
    fake.deleteRepo("changing", "deleted");
    fake.addRepo("changing", { name: "created", id: 91013, stargazers_count: 0 });
    fake.renameUser("changing", "changed");
    await vi.waitFor(
      async () => {
        const listing = await local("changed");
        expect(
          listing.repositories?.map((r: { name: string; stars: number }) => [r.name, r.stars]),
        ).toEqual([
          ["created", 0],
          ["starred", 2],
        ]);
      },
      { timeout: ROUND_BOUND_MS, interval: 200 },
    );
    expect((await h.get("/repositories/?username=changing&from_local=true")).status).toBe(404);
  });

  it("removes an account GitHub no longer has, with its repositories", async () => {
    fake.addUser({ login: "leaving", id: 9108 });
    fake.addRepo("leaving", { name: "gone-with-it", id: 91081 });
    expect((await h.get("/repositories/?username=leaving&save_data=true")).status).toBe(200);
    fake.deleteUser("leaving");
    await vi.waitFor(
      async () =>
        expect((await h.get("/repositories/?username=leaving&from_local=true")).status).toBe(404),
      { timeout: ROUND_BOUND_MS, interval: 200 },
    );
    expect(
      await queryRows(h.test.database, sql`select id from repository where id = 91081`),
    ).toEqual([]);
  });

  it("refreshes a repository saved on its own by id, following a transfer, and removes one GitHub no longer has", async () => {
    fake.addUser({ login: "single-owner", id: 9102 });
    fake.addUser({ login: "new-owner", id: 9103 });
    fake.addRepo("single-owner", { name: "moving", id: 91021, stargazers_count: 1 });
    fake.addRepo("single-owner", { name: "vanishing", id: 91022 });
    for (const name of ["moving", "vanishing"]) {
      expect((await h.get(`/repositories/single-owner/${name}?save_data=true`)).status).toBe(200);
    }
    fake.updateRepo("single-owner", "moving", { stargazers_count: 5 });
    fake.transferRepo("single-owner", "moving", "new-owner");
    fake.deleteRepo("single-owner", "vanishing");
    await vi.waitFor(
      async () => {
        expect((await local("new-owner")).repositories).toEqual([
          expect.objectContaining({ id: 91021, stars: 5 }),
        ]);
        expect((await local("single-owner")).repositories).toEqual([]);
      },
      { timeout: ROUND_BOUND_MS, interval: 200 },
    );
  });

  it("costs GitHub's budget nothing for an unchanged account of 300 repositories after its first round", async () => {
    fake.addUser({ login: "steady", id: 9104, repoCount: 300 });
    await h.get("/repositories/?username=steady&save_data=true");
    // The first refresh asks for the account by id (new to the cache); later ones are all 304.
    await refreshedAfter(9104, await listedAt(9104));
    fake.resetRequests();
    await refreshedAfter(9104, await listedAt(9104));
    await refreshedAfter(9104, await listedAt(9104));
    const steady = fake.requests.filter((request) =>
      /\/(user\/9104|users\/steady)(\/repos)?(\?|$)/.test(request.path),
    );
    // Two rounds: the account by id, the account by login and three pages, each time.
    expect(steady.length).toBeGreaterThanOrEqual(10);
    expect(steady.filter((request) => request.status !== 304)).toEqual([]);
  });

  it("counts its rounds and rows in /metrics", async () => {
    fake.addUser({ login: "counted", id: 9106 });
    fake.addRepo("counted", { name: "whole", id: 91061 });
    fake.addUser({ login: "counted-single", id: 9107 });
    fake.addRepo("counted-single", { name: "gone", id: 91071 });
    await h.get("/repositories/?username=counted&save_data=true");
    await h.get("/repositories/counted-single/gone?save_data=true");
    const saved = await listedAt(9106);
    fake.deleteRepo("counted-single", "gone");
    await refreshedAfter(9106, saved);
    await vi.waitFor(async () => expect((await local("counted-single")).repositories).toEqual([]), {
      timeout: ROUND_BOUND_MS,
      interval: 100,
    });
    const answer = await h.get("/metrics");
    const families = new Map(
      (
        parsePrometheusTextFormat(answer.text) as Array<{
          name: string;
          metrics: Array<{ value: string; labels?: Record<string, string> }>;
        }>
      ).map((family) => [family.name, family.metrics]),
    );
    expect(Number(families.get("refresh_rounds_total")?.[0]?.value)).toBeGreaterThanOrEqual(1);
    const rows = families.get("refresh_rows_total") ?? [];
    const count = (kind: string, result: string) =>
      Number(
        rows.find((row) => row.labels?.kind === kind && row.labels?.result === result)?.value ?? 0,
      );
    expect(count("account", "refreshed")).toBeGreaterThanOrEqual(1);
    expect(count("repository", "removed")).toBeGreaterThanOrEqual(1);
  });

  it("keeps answering, with the data intact, while GitHub fails during its rounds", async () => {
    fake.addUser({ login: "outage", id: 9105 });
    fake.addRepo("outage", { name: "kept", id: 91051, stargazers_count: 7 });
    await h.get("/repositories/?username=outage&save_data=true");
    const before = await local("outage");
    fake.injectFault({ kind: "5xx-always" });
    await vi.waitFor(
      () =>
        expect(logLines(h).some((line) => line.msg === "refresh failed" && line.id === 9105)).toBe(
          true,
        ),
      { timeout: ROUND_BOUND_MS, interval: 100 },
    );
    expect((await h.get("/health")).status).toBe(200);
    expect(await local("outage")).toEqual(before);
    // Once a round: a failed row is not taken again until the next one. In 3 s, at most 4
    // rounds (a second apart), each asking at most 3 times (the request and its 2 retries).
    fake.resetRequests();
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const asked = fake.requests.filter((request) => request.path === "/user/9105").length;
    expect(asked).toBeGreaterThan(0);
    expect(asked).toBeLessThanOrEqual(4 * 3);
    fake.clearFaults();
    await refreshedAfter(9105, await listedAt(9105));
  });
});

describe("the refresher and GitHub's budget", () => {
  it("sends no refresh request while GitHub's remaining budget is below REFRESH_RESERVE", async () => {
    const fake = await FakeGitHub.start({ maxAgeSeconds: 0 });
    const h = await startHarness({
      fake,
      env: { REFRESH_INTERVAL_S: "1", REFRESH_RESERVE: "0.5", GITHUB_TOKEN: TOKEN },
    });
    try {
      fake.addUser({ login: "thrifty", id: 9201, repoCount: 3 });
      // 2,000 of 5,000 left: under half, the reserve.
      fake.setRateLimit(2_000);
      await h.get("/repositories/?username=thrifty&save_data=true");
      fake.resetRequests();
      await vi.waitFor(
        () =>
          expect(logLines(h).some((line) => String(line.msg).startsWith("refreshing paused"))).toBe(
            true,
          ),
        { timeout: ROUND_BOUND_MS, interval: 100 },
      );
      // Three more rounds' time.
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      expect(fake.requests).toEqual([]);
    } finally {
      await h.close();
      await fake.close();
    }
  });
});

describe("three replicas refreshing one Postgres", () => {
  it("refresh each due account once, by one of them", async () => {
    const fake = await FakeGitHub.start({ maxAgeSeconds: 0 });
    const created = await createPostgresDatabase();
    const databases = [0, 1, 2].map(() => openDatabase({ url: created.url }));
    const replicas: InProcessService[] = [];
    try {
      await databases[0]?.migrate();
      const ids = Array.from({ length: 12 }, (_, index) => 9300 + index);
      for (const id of ids) fake.addUser({ login: `shared-${id}`, id, repoCount: 2 });
      for (const database of databases) {
        replicas.push(
          await startInProcessService({
            database,
            githubUrl: fake.url,
            // Due after 30 s: nothing saved here falls due again during the test.
            env: { REFRESH_INTERVAL_S: "30", GITHUB_TOKEN: TOKEN },
          }),
        );
      }
      for (const id of ids)
        await replicas[0]?.get(`/repositories/?username=shared-${id}&save_data=true`);
      fake.resetRequests();
      // Every account falls due at once, while all three replicas run their rounds.
      await databases[0]?.db.execute(sql`update "user" set listed_at = now() - interval '1 hour'`);
      await vi.waitFor(
        async () => {
          const due = await queryRows(
            databases[0] as never,
            sql`select count(*)::int as n from "user" where listed_at < now() - interval '30 seconds'`,
          );
          expect(due[0]?.n).toBe(0);
        },
        { timeout: 15_000, interval: 200 },
      );
      const byId = fake.requests.filter((request) => /^\/user\/\d+$/.test(request.path));
      expect(byId.map((request) => request.path).sort()).toEqual(ids.map((id) => `/user/${id}`));
      for (const replica of replicas) expect(errorsLogged(replica)).toEqual([]);
    } finally {
      for (const replica of replicas) await replica.close();
      for (const database of databases) await database.close();
      await fake.close();
      await created.drop();
    }
  });
});

describe("the refresher and a database cut", () => {
  it("fails its round, keeps the service answering, and refreshes once the database is back", async () => {
    const fake = await FakeGitHub.start({ maxAgeSeconds: 0 });
    const created = await createPostgresDatabase();
    const target = new URL(created.url);
    const proxy = await TcpProxy.start({
      host: target.hostname,
      port: Number(target.port || 5432),
    });
    const viaProxy = new URL(created.url);
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    const database = openDatabase({ url: viaProxy.toString(), onPoolError: () => {} });
    let service: InProcessService | undefined;
    try {
      await database.migrate();
      service = await startInProcessService({
        database,
        githubUrl: fake.url,
        env: { REFRESH_INTERVAL_S: "1", GITHUB_TOKEN: TOKEN },
      });
      fake.addUser({ login: "cut-off", id: 9401 });
      fake.addRepo("cut-off", { name: "kept", id: 94011, stargazers_count: 1 });
      await service.get("/repositories/?username=cut-off&save_data=true");
      fake.updateRepo("cut-off", "kept", { stargazers_count: 2 });
      proxy.cut();
      const running = service;
      await vi.waitFor(
        () =>
          expect(
            logLines(running).some((line) =>
              ["refresh round failed", "refresh failed"].includes(line.msg),
            ),
          ).toBe(true),
        { timeout: ROUND_BOUND_MS, interval: 100 },
      );
      expect((await service.get("/health")).status).toBe(200);
      expect((await service.get("/repositories/?username=cut-off")).status).toBe(200);
      proxy.restore();
      await vi.waitFor(
        async () => {
          const listing = (await running.get("/repositories/?username=cut-off&from_local=true"))
            .body;
          expect(listing.repositories?.[0]?.stars).toBe(2);
        },
        { timeout: 20_000, interval: 200 },
      );
      expect(errorsLogged(service)).toEqual([]);
    } finally {
      await service?.close();
      await database.close();
      await proxy.close();
      await fake.close();
      await created.drop();
    }
  });
});

describe("the refresher at shutdown", () => {
  it("stops before the database closes: a refresh in flight is cancelled, nothing half-written", async () => {
    const fake = await FakeGitHub.start({ maxAgeSeconds: 0 });
    const h = await startHarness({
      backend: "postgres",
      fake,
      env: { REFRESH_INTERVAL_S: "1", GITHUB_TOKEN: TOKEN, GITHUB_TIMEOUT_MS: "5000" },
    });
    let closed = false;
    try {
      fake.addUser({ login: "closing", id: 9501, repoCount: 250 });
      await h.get("/repositories/?username=closing&save_data=true");
      const before = await queryRows(
        h.test.database,
        sql`select id::int, synced_at::text from repository order by id`,
      );
      fake.latencyMs = 1_000;
      await vi.waitFor(
        () => expect(fake.requests.some((request) => request.status === 0)).toBe(true),
        { timeout: ROUND_BOUND_MS, interval: 50 },
      );
      // The app's close waits for the refresher, which cancels its GitHub requests.
      const started = performance.now();
      await h.app.close();
      closed = true;
      expect(performance.now() - started).toBeLessThan(5_000);
      expect(
        await queryRows(
          h.test.database,
          sql`select id::int, synced_at::text from repository order by id`,
        ),
      ).toEqual(before);
      expect(errorsLogged(h)).toEqual([]);
    } finally {
      fake.latencyMs = 0;
      if (!closed) await h.app.close();
      await h.close();
      await fake.close();
    }
  });
});
