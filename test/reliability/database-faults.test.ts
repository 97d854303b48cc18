import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Database, openDatabase } from "../../src/db/database.js";
import { FakeGitHub } from "../fake-github/server.js";
import { createPostgresDatabase } from "../helpers/databases.js";
import { type InProcessService, startInProcessService } from "../helpers/in-process-service.js";
import { TcpProxy } from "./tcp-proxy.js";

// Generous against a shared 2-core machine; the service's own bound is its 3 s pool timeouts.
const FAULT_ANSWER_BOUND_MS = 5_000;
const RECOVERY_BOUND_MS = 15_000;

/** Polls `probe` until it answers 200, returning how long that took. */
async function timeUntilHealthy(probe: () => Promise<number>, boundMs: number): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < boundMs) {
    if ((await probe().catch(() => 0)) === 200) return performance.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return Number.POSITIVE_INFINITY;
}

/**
 * A real Postgres reached through a proxy the test cuts and restores, with the service built in
 * this process exactly as server.ts builds it.
 */
describe("database faults", () => {
  let created: { url: string; drop(): Promise<void> };
  let direct: pg.Pool;
  let proxy: TcpProxy;
  let database: Database;
  let fake: FakeGitHub;
  let service: InProcessService;

  beforeAll(async () => {
    created = await createPostgresDatabase();
    const target = new URL(created.url);
    proxy = await TcpProxy.start({ host: target.hostname, port: Number(target.port || 5432) });
    const viaProxy = new URL(created.url);
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    database = openDatabase({ url: viaProxy.toString(), onPoolError: () => {} });
    await database.migrate();
    direct = new pg.Pool({ connectionString: created.url, max: 2 });
    fake = await FakeGitHub.start();
    fake.addUser({ login: "octocat", id: 1, repoCount: 3 });
    for (let index = 0; index < 8; index++) fake.addRepo("octocat", { name: `saved-${index}` });
    fake.addUser({ login: "hubot", id: 2 });
    fake.addRepo("hubot", { name: "first", id: 200 });
    service = await startInProcessService({ database, githubUrl: fake.url });
    expect((await service.get("/repositories/octocat/saved-0?save_data=true")).status).toBe(200);
  });

  afterEach(() => {
    proxy.restore();
    // Each fault, whichever test runs alone, is met without a 500 or an unexpected failure.
    const failures = service.logs.filter((line) => JSON.parse(line).level >= 50);
    expect(failures).toEqual([]);
  });

  afterAll(async () => {
    await service?.close();
    await database?.close();
    await proxy?.close();
    await direct?.end();
    await fake?.close();
    await created?.drop();
  });

  const counts = async () => {
    const { rows } = await direct.query<{ users: string; repositories: string; orphans: string }>(
      `select (select count(*) from "user") as users,
              (select count(*) from repository) as repositories,
              (select count(*) from "user" u
                 where not exists (select 1 from repository r where r.user_id = u.id)) as orphans`,
    );
    const [row] = rows;
    return {
      users: Number(row?.users),
      repositories: Number(row?.repositories),
      orphans: Number(row?.orphans),
    };
  };

  it("answers from_local=true and /ready with 503 within 5 s while the database is cut off", async () => {
    proxy.cut();
    const [local, ready] = await Promise.all([
      service.get("/repositories?username=octocat&from_local=true"),
      service.get("/ready"),
    ]);
    expect(local.status).toBe(503);
    expect(local.headers["content-type"]).toBe("application/problem+json; charset=utf-8");
    expect(local.headers["retry-after"]).toBe("5");
    expect(local.elapsedMs).toBeLessThan(FAULT_ANSWER_BOUND_MS);
    expect(ready.status).toBe(503);
    expect(ready.elapsedMs).toBeLessThan(FAULT_ANSWER_BOUND_MS);
  });

  it("keeps listing from GitHub while the database is cut off", async () => {
    proxy.cut();
    const listing = await service.get("/repositories?username=octocat");
    expect(listing.status).toBe(200);
    expect(listing.body.source).toBe("github");
    expect(listing.body.repositories).toHaveLength(11);
    const details = await service.get("/repositories/octocat/saved-1?save_data=false");
    expect(details.status).toBe(200);
    expect(details.body.saved).toBe(false);
  });

  it("answers save_data=true with 503 while cut off, and writes nothing of it", async () => {
    const before = await counts();
    proxy.cut();
    const save = await service.get("/repositories/hubot/first?save_data=true");
    expect(save.status).toBe(503);
    expect(save.elapsedMs).toBeLessThan(FAULT_ANSWER_BOUND_MS);
    proxy.restore();
    expect(await counts()).toEqual(before);
  });

  it("leaves no owner without its repository when the connection drops inside the save's transaction", async () => {
    const before = await counts();
    // The owner's upsert has gone out in the open transaction; the repository's never arrives.
    const cutInsideTransaction = proxy.cutWhenSent('insert into "repository"');
    const save = await service.get("/repositories/hubot/first?save_data=true");
    await cutInsideTransaction;
    expect(save.status).toBe(503);
    expect(save.elapsedMs).toBeLessThan(FAULT_ANSWER_BOUND_MS);
    proxy.restore();
    const after = await counts();
    expect(after).toEqual(before);
    expect(after.orphans).toBe(0);
  });

  it("leaves the previous state intact when the connection drops inside a whole-account save", async () => {
    fake.addUser({ login: "whole-cut", id: 4 });
    for (let index = 0; index < 30; index++) fake.addRepo("whole-cut", { name: `w-${index}` });
    for (const name of ["w-1", "w-2"]) {
      expect((await service.get(`/repositories/whole-cut/${name}?save_data=true`)).status).toBe(
        200,
      );
    }
    const state = async () =>
      (
        await direct.query(
          `select u.listed_at, r.name from "user" u join repository r on r.user_id = u.id
           where u.id = 4 order by r.name`,
        )
      ).rows;
    const before = await state();
    expect(before).toEqual([
      { listed_at: null, name: "w-1" },
      { listed_at: null, name: "w-2" },
    ]);
    // The owner's upsert and the removal have gone out in the open transaction; the upsert of
    // the listed repositories never arrives.
    const cutInsideTransaction = proxy.cutWhenSent("insert into repository");
    const save = await service.get("/repositories?username=whole-cut&save_data=true");
    await cutInsideTransaction;
    expect(save.status).toBe(503);
    expect(save.elapsedMs).toBeLessThan(FAULT_ANSWER_BOUND_MS);
    proxy.restore();
    expect(await state()).toEqual(before);
    await timeUntilHealthy(async () => (await service.get("/ready")).status, RECOVERY_BOUND_MS);
    const again = await service.get("/repositories?username=whole-cut&save_data=true");
    expect(again.status).toBe(200);
    expect((await state()).map((row) => row.name)).toHaveLength(30);
  });

  it("answers a save cut at random points either fully or not at all, losing no acknowledged save", async () => {
    // An account of its own, so the other tests' listings stay as they are in any order.
    fake.addUser({ login: "cutter", id: 3 });
    const save = (name: string) => service.get(`/repositories/cutter/${name}?save_data=true`);
    const names = Array.from({ length: 8 }, (_, index) => `cut-${index}`);
    for (const name of names) fake.addRepo("cutter", { name });
    // Three saves reach the database before the cut, so the check below has saves to check.
    const before = await Promise.all(names.slice(0, 3).map(save));
    expect(before.map((answer) => answer.status)).toEqual([200, 200, 200]);
    // The other five race; the first of them to send its repository's insert is cut inside its
    // transaction, the others wherever they are at that moment.
    const cut = proxy.cutWhenSent('insert into "repository"');
    const during = await Promise.all(names.slice(3).map(save));
    await cut;
    proxy.restore();
    for (const answer of during) {
      expect([200, 503]).toContain(answer.status);
      expect(answer.elapsedMs).toBeLessThan(FAULT_ANSWER_BOUND_MS);
    }
    const acknowledged = [...before, ...during].flatMap((answer) =>
      answer.status === 200 ? [answer.body] : [],
    );
    expect(acknowledged.length).toBeGreaterThanOrEqual(3);
    const { rows } = await direct.query<{ id: string }>("select id from repository");
    const stored = new Set(rows.map((row) => Number(row.id)));
    for (const body of acknowledged) expect(stored).toContain(body.id);
    // The cut save itself was not acknowledged, so the cut did fall among the saves.
    expect(during.map((answer) => answer.status)).toContain(503);
    expect((await counts()).orphans).toBe(0);
  });

  it("recovers by itself within 15 s of the database coming back, without a restart", async () => {
    proxy.cut();
    expect((await service.get("/ready")).status).toBe(503);
    proxy.restore();
    const readyAfter = await timeUntilHealthy(
      async () => (await service.get("/ready", 3_000)).status,
      RECOVERY_BOUND_MS,
    );
    expect(readyAfter).toBeLessThan(RECOVERY_BOUND_MS);
    const local = await service.get("/repositories?username=octocat&from_local=true");
    expect(local.status).toBe(200);
    expect(local.body.source).toBe("local");
    const save = await service.get("/repositories/hubot/first?save_data=true");
    expect(save.status).toBe(200);
    expect(save.body.saved).toBe(true);
    expect((await counts()).orphans).toBe(0);
  });
});
