/**
 * `npm run bench:load`: issue 15's load. LOAD_LISTINGS (60) distinct accounts of LOAD_REPOSITORIES
 * (5,000) repositories listed at once from the service as deployed (the image's command, on a new
 * Postgres database), against the fake GitHub at 20 ms of latency with GITHUB_TIMEOUT_MS=3000,
 * while /health is asked in a loop. Prints the answers by status, /health's latencies and the
 * process's peak RSS as JSON; the figures go to docs/reliability.md. Loopback only.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent, request } from "undici";
import { FakeGitHub } from "../test/fake-github/server.js";
import { createPostgresDatabase } from "./bench-database.js";
import { loadBenchConfig } from "./config.js";
import { IMAGE_COMMAND } from "./image-command.js";
import { median } from "./load.js";
import { startProcess } from "./service-process.js";
import { BENCH_TOKEN } from "./upstream.js";

const LISTINGS = Number(process.env.LOAD_LISTINGS ?? 60);
const REPOSITORIES = Number(process.env.LOAD_REPOSITORIES ?? 5_000);
const LATENCY_MS = 20;
const PAGE_SIZE = 100;

const config = loadBenchConfig(process.env);
const dir = await mkdtemp(join(tmpdir(), "bench-load-"));
const database = await createPostgresDatabase(config.postgresAdminUrl);
const fake = await FakeGitHub.start();
const agent = new Agent({ connections: LISTINGS + 4 });
const logins = Array.from({ length: LISTINGS }, (_, index) => `load-${index}`);
try {
  const ids = new Map(
    logins.map((login) => [login, fake.addUser({ login, repoCount: REPOSITORIES }).id]),
  );
  // The fake builds each answer once; building them first keeps its CPU out of the measurement.
  const headers = { authorization: `Bearer ${BENCH_TOKEN}` };
  for (const login of logins) {
    await (await request(`${fake.url}/users/${login}`, { headers })).body.dump();
    for (let page = 1; page <= Math.ceil(REPOSITORIES / PAGE_SIZE); page++) {
      const path = page === 1 ? `/users/${login}/repos` : `/user/${ids.get(login)}/repos`;
      const url = `${fake.url}${path}?type=owner&per_page=${PAGE_SIZE}&page=${page}`;
      await (await request(url, { headers })).body.dump();
    }
  }
  fake.setRateLimit(5_000);
  fake.latencyMs = LATENCY_MS;
  const service = await startProcess({
    args: [...IMAGE_COMMAND.args],
    env: {
      DATABASE_URL: database.url,
      GITHUB_API_URL: fake.url,
      GITHUB_TOKEN: BENCH_TOKEN,
      GITHUB_TIMEOUT_MS: "3000",
      LOG_LEVEL: "warn",
    },
    logFile: join(dir, "service.log"),
  });
  try {
    const get = async (path: string) => {
      const started = performance.now();
      const response = await request(`${service.url}${path}`, {
        dispatcher: agent,
        signal: AbortSignal.timeout(60_000),
      });
      await response.body.dump();
      return { status: response.statusCode, ms: performance.now() - started };
    };
    let done = false;
    const health: number[] = [];
    const probe = (async () => {
      while (!done) health.push((await get("/health")).ms);
    })();
    const started = performance.now();
    const answers = await Promise.all(
      logins.map((login) => get(`/repositories?username=${login}`)),
    );
    const seconds = (performance.now() - started) / 1000;
    done = true;
    await probe;
    const statuses: Record<string, number> = {};
    for (const { status } of answers) statuses[status] = (statuses[status] ?? 0) + 1;
    const sorted = [...health].sort((a, b) => a - b);
    const ok = answers.filter((answer) => answer.status === 200).map((answer) => answer.ms);
    process.stdout.write(
      `${JSON.stringify(
        {
          listings: LISTINGS,
          repositories: REPOSITORIES,
          latencyMs: LATENCY_MS,
          statuses,
          seconds: Math.round(seconds * 10) / 10,
          okMedianMs: ok.length > 0 ? Math.round(median(ok)) : null,
          health: {
            samples: health.length,
            medianMs: Math.round(median(health) * 10) / 10,
            p99Ms: Math.round((sorted[Math.floor(sorted.length * 0.99)] ?? 0) * 10) / 10,
            maxMs: Math.round((sorted.at(-1) ?? 0) * 10) / 10,
          },
          peakRssMb: Math.round(await service.peakRssMb()),
        },
        null,
        2,
      )}\n`,
    );
  } finally {
    await service.stop();
  }
} finally {
  await agent.close();
  await fake.close();
  await database.drop();
  await rm(dir, { recursive: true, force: true });
}
