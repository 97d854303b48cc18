import pg from "pg";
import { Agent, request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeGitHub } from "../fake-github/server.js";
import { createPostgresDatabase } from "../helpers/databases.js";
import { ensureBuilt, type ServerProcess, startServerProcess } from "../helpers/server-process.js";

const REPLICAS = 3;
const OWNERS = 6;
const REPOS_PER_OWNER = 10;
const SAME_REPO_SAVES = 40;
const LOCAL_LISTINGS = 50;
const REMOTE_LISTINGS = 50;

/**
 * Three processes of the built server on one Postgres database, as a deployment runs them,
 * taking a burst of mixed requests at once: concurrent saves of one repository, saves of many,
 * and listings from the database and from GitHub.
 */
describe("three replicas on one database", () => {
  let created: { url: string; drop(): Promise<void> };
  let fake: FakeGitHub;
  let replicas: ServerProcess[] = [];
  let direct: pg.Pool;
  const agent = new Agent({ connections: 128 });

  beforeAll(async () => {
    ensureBuilt();
    created = await createPostgresDatabase();
    direct = new pg.Pool({ connectionString: created.url, max: 2 });
    fake = await FakeGitHub.start();
    fake.addUser({ login: "shared", id: 1 });
    fake.addRepo("shared", { name: "common", id: 100 });
    for (let owner = 1; owner <= OWNERS; owner++) {
      fake.addUser({ login: `owner-${owner}`, id: 1 + owner });
      for (let repo = 1; repo <= REPOS_PER_OWNER; repo++) {
        fake.addRepo(`owner-${owner}`, { name: `repo-${repo}`, id: owner * 1_000 + repo });
      }
    }
    // Started together, so their migrations race on the same empty database.
    replicas = await Promise.all(
      Array.from({ length: REPLICAS }, () =>
        startServerProcess({
          DATABASE_URL: created.url,
          GITHUB_API_URL: fake.url,
          GITHUB_TIMEOUT_MS: "10000",
          // Anonymous callers get 60 GitHub requests an hour; the burst needs more.
          GITHUB_TOKEN: "ghp_replicasTestToken",
        }),
      ),
    );
  }, 150_000);

  afterAll(async () => {
    await Promise.all(replicas.map((replica) => replica.stop()));
    await agent.close();
    await direct?.end();
    await fake?.close();
    await created?.drop();
  });

  it("answers 200 mixed concurrent requests without a 5xx and stores exactly what was saved", async () => {
    const paths: string[] = [];
    for (let i = 0; i < SAME_REPO_SAVES; i++) {
      // Differently spelt logins of one account must still land on one row.
      paths.push(`/repositories/${i % 2 ? "shared" : "SHARED"}/common?save_data=true`);
    }
    for (let owner = 1; owner <= OWNERS; owner++) {
      for (let repo = 1; repo <= REPOS_PER_OWNER; repo++) {
        paths.push(`/repositories/repo-${repo}?username=owner-${owner}&save_data=yes`);
      }
    }
    for (let i = 0; i < LOCAL_LISTINGS; i++) {
      paths.push(`/repositories?username=owner-${(i % OWNERS) + 1}&from_local=true`);
    }
    for (let i = 0; i < REMOTE_LISTINGS; i++) {
      paths.push(`/repositories?username=owner-${(i % OWNERS) + 1}`);
    }
    expect(paths).toHaveLength(200);

    const answers = await Promise.all(
      paths.map(async (path, index) => {
        const replica = replicas[index % REPLICAS] as ServerProcess;
        const response = await request(`${replica.url}${path}`, {
          dispatcher: agent,
          signal: AbortSignal.timeout(30_000),
        });
        await response.body.dump();
        return { path, status: response.statusCode };
      }),
    );

    expect(answers.filter((answer) => answer.status >= 500)).toEqual([]);
    for (const answer of answers) {
      // A local listing may run before that owner's first save commits.
      const allowed = answer.path.includes("from_local=true") ? [200, 404] : [200];
      expect(allowed, answer.path).toContain(answer.status);
    }

    const { rows } = await direct.query<{ users: string; repositories: string; orphans: string }>(
      `select (select count(*) from "user") as users,
              (select count(*) from repository) as repositories,
              (select count(*) from repository r
                 where not exists (select 1 from "user" u where u.id = r.user_id)) as orphans`,
    );
    expect(rows[0]).toEqual({
      users: String(1 + OWNERS),
      repositories: String(1 + OWNERS * REPOS_PER_OWNER),
      orphans: "0",
    });
    const perOwner = await direct.query<{ login: string; count: string }>(
      `select u.login, count(r.id) as count from "user" u join repository r on r.user_id = u.id
        group by u.login order by u.login`,
    );
    expect(perOwner.rows).toEqual([
      ...Array.from({ length: OWNERS }, (_, i) => ({
        login: `owner-${i + 1}`,
        count: String(REPOS_PER_OWNER),
      })),
      { login: "shared", count: "1" },
    ]);
  });

  it("serves every replica's saves from every other replica", async () => {
    for (const replica of replicas) {
      const response = await request(`${replica.url}/repositories?username=owner-1&from_local=1`, {
        dispatcher: agent,
      });
      const body = (await response.body.json()) as { repositories: unknown[] };
      expect(response.statusCode).toBe(200);
      expect(body.repositories).toHaveLength(REPOS_PER_OWNER);
    }
  });

  it("logged no error in any replica", () => {
    const errors = replicas.flatMap((replica) =>
      replica.output.filter((line) => line.startsWith("{") && JSON.parse(line).level >= 50),
    );
    expect(errors).toEqual([]);
  });
});
