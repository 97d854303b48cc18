import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { request } from "undici";
import { FakeGitHub } from "../test/fake-github/server.js";
import { createPostgresDatabase } from "./bench-database.js";
import type { BenchConfig } from "./config.js";
import { IMAGE_COMMAND } from "./image-command.js";
import { type RunningProcess, startProcess } from "./service-process.js";
import { BENCH_TOKEN } from "./upstream.js";

const ACCOUNTS = 20;
const REPOSITORIES = 300;
// Short enough to wait out between rounds, long enough that a round (60 listings) stays fresh.
const MAX_AGE_SECONDS = 10;

/** The GitHub requests of one round: those that cost rate limit, and the 304s that did not. */
export interface RoundCost {
  costly: number;
  revalidated: number;
  seconds: number;
}

export interface ReplicasResult {
  accounts: number;
  repositories: number;
  maxAgeSeconds: number;
  /** One replica: a cold round, then one after `max-age` ran out. */
  single: { first: RoundCost; second: RoundCost };
  /** Three replicas on the same Postgres and a new, shared Redis, the same two rounds. */
  three: { first: RoundCost; second: RoundCost };
  /** The three restarted on that Redis, a third round after `max-age` ran out again. */
  restarted: RoundCost;
}

/**
 * Issue 14's replica scenario: the image's command as replicas on one Postgres database and one
 * Redis (`BENCH_REDIS_URL`, a database of it emptied first), each replica in turn asked for the
 * same accounts, and the fake GitHub's request log read after each round. One replica alone is
 * measured the same way first, so the ratio is from this run.
 */
export async function runReplicas(
  config: BenchConfig & { redisUrl: string },
  log: (line: string) => void,
): Promise<ReplicasResult> {
  const dir = await mkdtemp(join(tmpdir(), "bench-replicas-"));
  const fake = await FakeGitHub.start({ maxAgeSeconds: MAX_AGE_SECONDS });
  const database = await createPostgresDatabase(config.postgresAdminUrl);
  const redis = new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  const logins = Array.from({ length: ACCOUNTS }, (_, index) => `replica-${index}`);
  const running = new Set<RunningProcess>();
  try {
    await redis.connect();
    for (const login of logins) fake.addUser({ login, repoCount: REPOSITORIES });
    fake.setRateLimit(5_000);
    fake.latencyMs = config.latencyMs;

    const start = async (count: number) => {
      const replicas: RunningProcess[] = [];
      for (let index = 0; index < count; index++) {
        const replica = await startProcess({
          args: [...IMAGE_COMMAND.args],
          env: {
            DATABASE_URL: database.url,
            REDIS_URL: config.redisUrl,
            GITHUB_API_URL: fake.url,
            GITHUB_TOKEN: BENCH_TOKEN,
            LOG_LEVEL: "warn",
          },
          logFile: join(dir, "replicas.log"),
        });
        running.add(replica);
        replicas.push(replica);
      }
      return replicas;
    };
    const stop = async (replicas: RunningProcess[]) => {
      for (const replica of replicas) {
        await replica.stop();
        running.delete(replica);
      }
    };
    const round = async (replicas: RunningProcess[]): Promise<RoundCost> => {
      fake.resetRequests();
      const started = performance.now();
      for (const replica of replicas) {
        for (const login of logins) {
          const answer = await request(`${replica.url}/repositories/?username=${login}`);
          const body = (await answer.body.json()) as { repositories?: unknown[] };
          if (answer.statusCode !== 200 || body.repositories?.length !== REPOSITORIES) {
            throw new Error(`replica listing of ${login} answered ${answer.statusCode}`);
          }
        }
      }
      const revalidated = fake.requests.filter((entry) => entry.status === 304).length;
      return {
        costly: fake.requests.length - revalidated,
        revalidated,
        seconds: (performance.now() - started) / 1000,
      };
    };
    const staleAgain = () => sleep((MAX_AGE_SECONDS + 1) * 1000);
    const twoRounds = async (replicas: RunningProcess[]) => {
      const first = await round(replicas);
      await staleAgain();
      return { first, second: await round(replicas) };
    };

    log(`replicas: one replica, ${ACCOUNTS} accounts of ${REPOSITORIES} repositories, two rounds`);
    await redis.flushdb();
    const alone = await start(1);
    const single = await twoRounds(alone);
    await stop(alone);

    log("replicas: three replicas on a new Redis, two rounds, then all three restarted");
    await redis.flushdb();
    const replicas = await start(3);
    const three = await twoRounds(replicas);
    await stop(replicas);
    const again = await start(3);
    await staleAgain();
    const restarted = await round(again);
    await stop(again);
    return {
      accounts: ACCOUNTS,
      repositories: REPOSITORIES,
      maxAgeSeconds: MAX_AGE_SECONDS,
      single,
      three,
      restarted,
    };
  } finally {
    for (const replica of running) await replica.stop().catch(() => {});
    redis.disconnect();
    await fake.close();
    await database.drop();
    await rm(dir, { recursive: true, force: true });
  }
}
