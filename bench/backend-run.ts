import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { request } from "undici";
import { RepositoryStore } from "../src/db/repository-store.js";
import { recordFromGitHub } from "../src/repositories/views.js";
import { FakeGitHub } from "../test/fake-github/server.js";
import type { Backend } from "../test/helpers/databases.js";
import {
  committedTransactions,
  createPostgresDatabase,
  insertAccounts,
  openBenchDatabase,
  type SavedAccount,
} from "./bench-database.js";
import type { BenchConfig } from "./config.js";
import { alternately, eachPathOnce, type LoadResult, median, throughput } from "./load.js";
import { type RunningProcess, startProcess } from "./service-process.js";
import { BENCH_TOKEN, Upstream } from "./upstream.js";

const REPOS_PER_PAGE = 100;
const LISTING_SIZE = 1000;
const WARMUP_SECONDS = 1;
// Postgres backends report their statistics at most this long after going idle (PG 15's
// PGSTAT_IDLE_INTERVAL is 10 s), so transaction counts are read only after such a quiet spell.
const STATS_QUIET_MS = 11_000;
// Ids of the accounts loaded straight into the database, far from the fake GitHub's own.
const LOADED_USER_ID = 7_000_000;
const LOADED_REPO_ID_OFFSET = 50_000_000;

export interface Comparison {
  service: LoadResult;
  bare: LoadResult;
  ratio: number;
}

export interface ScalePoint {
  repositories: number;
  remoteColdP50Ms: number;
  localRps: number;
  localP50Ms: number;
  localFailures: number;
}

/** The service a run measures: this tree, or a baseline checkout beside it. */
export interface ServiceBuild {
  label: string;
  /** The directory node runs `args` in. */
  dir: string;
  args: readonly string[];
  env: Record<string, string>;
}

export interface BackendResult {
  backend: Backend;
  build: string;
  /** From spawn to the first 200 of /ready, on an empty and on an existing database. */
  startup: { freshMs: number; existingMs: number };
  b1: {
    cold: LoadResult;
    sequentialMedianMs: number;
    /** An ideal client against the same fake: two round trips and the fake's CPU time. */
    parallelFloorMedianMs: number;
    upstreamRequestsPerListing: number;
    speedup: number;
  };
  b2: Comparison & { queriesPerRequestStore: number; queriesPerRequestServer: number | null };
  b3: Comparison & { upstreamRequests: number; windowSeconds: number };
  /**
   * B3 on two new processes of the same build, one with METRICS=false, measured in turn: both
   * with the same short history, so only the metrics differ.
   */
  metricsCost: { withMetrics: LoadResult; withoutMetrics: LoadResult; ratio: number };
  b4: { upstreamRequests: number; pages: number; ok: number; sent: number };
  b5: { peakRssMbThroughB4: number; peakRssMbEnd: number };
  /** Cold 1,000-repository listings from GitHub, and the same with the whole account saved. */
  wholeSave: { listingMedianMs: number; saveMedianMs: number; ratio: number; pairs: number };
  save: LoadResult;
  scaling: ScalePoint[];
  /** The listing query as a first read, and as the check of a listing the service holds. */
  explain: Array<{ form: string; sql: string; params: unknown[]; plan: string }>;
}

function assertClean(what: string, result: LoadResult): LoadResult {
  if (result.failures > 0) {
    throw new Error(`${what}: ${result.failures} of ${result.requests} requests failed`);
  }
  return result;
}

async function getJson(url: string): Promise<unknown> {
  const response = await request(url);
  const text = await response.body.text();
  if (response.statusCode !== 200)
    throw new Error(`${url} answered ${response.statusCode}: ${text}`);
  return JSON.parse(text);
}

/** A short untimed run first, so both sides of a comparison are measured after JIT warm-up. */
async function measured(url: string, connections: number, seconds: number): Promise<LoadResult> {
  await throughput(url, { connections, seconds: WARMUP_SECONDS });
  return throughput(url, { connections, seconds });
}

/** Accounts of every scaling size, built from a second fake GitHub and loaded straight in. */
async function scalingAccounts(sizes: number[]): Promise<SavedAccount[]> {
  const fake = await FakeGitHub.start({ seed: 2 });
  const upstream = new Upstream(fake);
  try {
    const accounts: SavedAccount[] = [];
    for (const size of sizes) {
      fake.addUser({ login: `local-${size}`, id: LOADED_USER_ID + size, repoCount: size });
      const { user, repositories } = await upstream.listingWithoutLatency(`local-${size}`);
      accounts.push({
        user: { id: user.id, login: user.login },
        repositories: repositories.map((repository) => ({
          ...recordFromGitHub(repository),
          id: repository.id + LOADED_REPO_ID_OFFSET,
        })),
      });
    }
    return accounts;
  } finally {
    await upstream.close();
    await fake.close();
  }
}

interface Storage {
  env: Record<string, string>;
  target: { kind: "pglite"; dataDir: string } | { kind: "postgres"; url: string };
  databaseName?: string;
  dispose(): Promise<void>;
}

async function prepareStorage(
  backend: Backend,
  config: BenchConfig,
  dir: string,
): Promise<Storage> {
  if (backend === "pglite") {
    const dataDir = join(dir, "pglite");
    return {
      env: { DATA_DIR: dataDir },
      target: { kind: "pglite", dataDir },
      dispose: async () => {},
    };
  }
  const database = await createPostgresDatabase(config.postgresAdminUrl);
  return {
    env: { DATABASE_URL: database.url },
    target: { kind: "postgres", url: database.url },
    databaseName: database.name,
    dispose: () => database.drop(),
  };
}

/** Sums two halves of a comparison measured in turn. */
function combined(parts: LoadResult[]): LoadResult {
  const sum = (key: "requests" | "sent" | "failures") =>
    parts.reduce((total, part) => total + part[key], 0);
  return {
    rps: parts.reduce((total, part) => total + part.rps, 0) / parts.length,
    latencyP50Ms: median(parts.map((part) => part.latencyP50Ms)),
    latencyP99Ms: Math.max(...parts.map((part) => part.latencyP99Ms)),
    requests: sum("requests"),
    sent: sum("sent"),
    failures: sum("failures"),
  };
}

async function compareMetrics(
  serviceArgs: { args: string[]; cwd: string; env: Record<string, string>; logFile: string },
  backend: Backend,
  dir: string,
  detailsPath: string,
  config: BenchConfig,
): Promise<BackendResult["metricsCost"]> {
  const start = (metrics: "true" | "false") =>
    startProcess({
      ...serviceArgs,
      env: {
        ...serviceArgs.env,
        METRICS: metrics,
        // A PGlite data directory takes one process at a time; B3 needs none of the data.
        ...(backend === "pglite" ? { DATA_DIR: join(dir, `pglite-metrics-${metrics}`) } : {}),
      },
      logFile: join(dir, `service-metrics-${metrics}.log`),
    });
  const on = await start("true");
  const off = await start("false");
  try {
    const half = Math.max(1, Math.round(config.durationSeconds / 2));
    const runs: Record<"on" | "off", LoadResult[]> = { on: [], off: [] };
    for (let round = 0; round < 2; round++) {
      for (const [label, server] of [
        ["on", on],
        ["off", off],
      ] as const) {
        runs[label].push(
          assertClean(
            `B3 with METRICS ${label}`,
            await measured(`${server.url}${detailsPath}`, config.connections, half),
          ),
        );
      }
    }
    const withMetrics = combined(runs.on);
    const withoutMetrics = combined(runs.off);
    return { withMetrics, withoutMetrics, ratio: withMetrics.rps / withoutMetrics.rps };
  } finally {
    await Promise.allSettled([on.stop(), off.stop()]);
  }
}

export async function runBackend(
  backend: Backend,
  config: BenchConfig,
  log: (line: string) => void,
  build: ServiceBuild,
): Promise<BackendResult> {
  const dir = await mkdtemp(join(tmpdir(), `bench-${backend}-`));
  const fake = await FakeGitHub.start({ latencyMs: 0, seed: 1 });
  const upstream = new Upstream(fake);
  const storage = await prepareStorage(backend, config, dir);
  const serviceArgs = {
    args: [...build.args],
    cwd: build.dir,
    env: {
      ...build.env,
      ...storage.env,
      GITHUB_API_URL: fake.url,
      GITHUB_TOKEN: BENCH_TOKEN,
      GITHUB_TIMEOUT_MS: "30000",
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "info",
    },
    logFile: join(dir, "service.log"),
  };
  let service: RunningProcess | undefined;
  let bare: RunningProcess | undefined;
  try {
    log(
      `[${build.label} ${backend}] start-up on an empty ${backend === "pglite" ? "data directory" : "database"}`,
    );
    const fresh = await startProcess(serviceArgs);
    await fresh.stop();

    const sizes = config.sizes;
    const loaded = await scalingAccounts(sizes);
    const loader = await openBenchDatabase(storage.target);
    await insertAccounts(loader.db, loaded);
    await loader.close();

    log(`[${build.label} ${backend}] start-up on existing data; setting up the fake GitHub`);
    service = await startProcess(serviceArgs);
    const existingMs = service.startupMs;
    const cold = Array.from({ length: config.coldSamples }, (_, index) =>
      fake.addUser({ login: `cold-${index}`, repoCount: LISTING_SIZE }),
    );
    // One pair more than measured: the first goes untimed.
    const wholePairs = Array.from({ length: config.coldSamples + 1 }, (_, index) => ({
      listed: fake.addUser({ login: `listed-${index}`, repoCount: LISTING_SIZE }),
      saved: fake.addUser({ login: `whole-${index}`, repoCount: LISTING_SIZE }),
    }));
    fake.addUser({ login: "coalesce", repoCount: LISTING_SIZE });
    fake.addUser({ login: "saved", repoCount: LISTING_SIZE });
    const scaleUsers = sizes.map((size) =>
      Array.from({ length: config.scaleSamples }, (_, index) =>
        fake.addUser({ login: `scale-${size}-${index}`, repoCount: size }),
      ),
    );
    const saved = await upstream.listingWithoutLatency("saved");
    fake.latencyMs = config.latencyMs;
    const pages = Math.ceil(LISTING_SIZE / REPOS_PER_PAGE);

    // The fake builds each page once per state of its store, as GitHub's own caches serve
    // repeated reads; building them all first keeps the fake's CPU out of B1 and out of its
    // baselines alike. The service has still never been asked for these accounts.
    for (const user of cold) await upstream.listingWithoutLatency(user.login);
    for (const { listed, saved } of wholePairs) {
      await upstream.listingWithoutLatency(listed.login);
      await upstream.listingWithoutLatency(saved.login);
    }

    log(`[${build.label} ${backend}] B1 cold remote listings`);
    fake.setRateLimit(5000);
    fake.resetRequests();
    const coldResult = assertClean(
      "B1",
      await eachPathOnce(
        service.url,
        cold.map((user) => `/repositories?username=${user.login}`),
      ),
    );
    const upstreamRequestsPerListing = fake.requests.length / cold.length;
    const sequential: number[] = [];
    for (const user of cold.slice(0, config.baselineSamples)) {
      sequential.push(await upstream.sequentialListing(user.login, pages));
    }
    const sequentialMedianMs = median(sequential);
    const floor: number[] = [];
    for (const user of cold.slice(0, config.baselineSamples)) {
      floor.push(await upstream.parallelListing(user.login, pages));
    }

    log(
      `[${build.label} ${backend}] B4 ${config.coalesceRequests} identical cold listings at once`,
    );
    fake.setRateLimit(5000);
    fake.resetRequests();
    const coalesced = await eachPathOnce(
      service.url,
      Array.from({ length: config.coalesceRequests }, () => "/repositories?username=coalesce"),
      config.coalesceRequests,
    );
    const b4 = {
      upstreamRequests: fake.requests.length,
      pages,
      ok: coalesced.requests - coalesced.failures,
      sent: config.coalesceRequests,
    };

    log(
      `[${build.label} ${backend}] saving ${saved.repositories.length} repositories through the API`,
    );
    fake.latencyMs = 0;
    fake.setRateLimit(5000);
    const save = assertClean(
      "save",
      await eachPathOnce(
        service.url,
        saved.repositories.map(
          (repository) => `/repositories/saved/${repository.name}?save_data=true`,
        ),
        config.connections,
      ),
    );
    fake.latencyMs = config.latencyMs;
    const quietSince = performance.now();

    const detailsName = saved.repositories[0]?.name as string;
    const detailsPath = `/repositories/saved/${detailsName}?save_data=false`;
    const listingPath = "/repositories?username=saved&from_local=true";
    const bodiesFile = join(dir, "bodies.json");
    fake.resetRequests();
    const windowStarted = performance.now();
    await writeFile(
      bodiesFile,
      JSON.stringify({
        listing: await getJson(`${service.url}${listingPath}`),
        details: await getJson(`${service.url}${detailsPath}`),
      }),
    );
    bare = await startProcess({
      args: ["--import", "tsx", "bench/bare-server.ts"],
      env: { BARE_BODIES: bodiesFile },
      logFile: join(dir, "bare.log"),
    });

    log(`[${build.label} ${backend}] B3 repeated details, service then bare route`);
    const b3Service = assertClean(
      "B3",
      await measured(`${service.url}${detailsPath}`, config.connections, config.durationSeconds),
    );
    const windowSeconds = (performance.now() - windowStarted) / 1000;
    const detailsUpstream = fake.requests.filter((entry) =>
      entry.path.startsWith(`/repos/saved/`),
    ).length;
    const b3Bare = assertClean(
      "B3 bare",
      await measured(`${bare.url}${detailsPath}`, config.connections, config.durationSeconds),
    );

    log(`[${build.label} ${backend}] B2 local listing, service then bare route`);
    const remaining = STATS_QUIET_MS - (performance.now() - quietSince);
    if (storage.databaseName && remaining > 0) await sleep(remaining);
    const transactionsBefore = storage.databaseName
      ? await committedTransactions(config.postgresAdminUrl, storage.databaseName)
      : 0;
    const b2Warmup = await throughput(`${service.url}${listingPath}`, {
      connections: config.connections,
      seconds: WARMUP_SECONDS,
    });
    const b2Service = assertClean(
      "B2",
      await throughput(`${service.url}${listingPath}`, {
        connections: config.connections,
        seconds: config.durationSeconds,
      }),
    );
    const listingRequests = b2Warmup.sent + b2Service.sent;
    const listingsDone = performance.now();
    const b2Bare = assertClean(
      "B2 bare",
      await measured(`${bare.url}${listingPath}`, config.connections, config.durationSeconds),
    );
    const peakRssMbThroughB4 = await service.peakRssMb();

    log(
      `[${build.label} ${backend}] whole saves against cold listings, in turn (after B5's reading)`,
    );
    fake.setRateLimit(5000);
    const [listingMedianMs, saveMedianMs] = (await alternately(service.url, [
      wholePairs.map(({ listed }) => `/repositories?username=${listed.login}`),
      wholePairs.map(({ saved }) => `/repositories?username=${saved.login}&save_data=true`),
    ])) as [number, number];
    const wholeSave = {
      listingMedianMs,
      saveMedianMs,
      ratio: saveMedianMs / listingMedianMs,
      pairs: wholePairs.length - 1,
    };

    log(
      `[${build.label} ${backend}] scaling: cold remote listings at ${sizes.join(", ")} repositories`,
    );
    fake.setRateLimit(5000);
    const remoteP50 = new Map<number, number>();
    for (const [index, size] of sizes.entries()) {
      const users = scaleUsers[index] ?? [];
      const result = assertClean(
        `remote ${size}`,
        await eachPathOnce(
          service.url,
          users.map((user) => `/repositories?username=${user.login}`),
        ),
      );
      remoteP50.set(size, result.latencyP50Ms);
    }
    let queriesPerRequestServer: number | null = null;
    if (storage.databaseName) {
      const wait = STATS_QUIET_MS - (performance.now() - listingsDone);
      if (wait > 0) await sleep(wait);
      const after = await committedTransactions(config.postgresAdminUrl, storage.databaseName);
      queriesPerRequestServer = (after - transactionsBefore) / listingRequests;
    }

    log(`[${build.label} ${backend}] scaling: local listing throughput`);
    const scaling: ScalePoint[] = [];
    for (const size of sizes) {
      const local = await measured(
        `${service.url}/repositories?username=local-${size}&from_local=true`,
        config.connections,
        config.scaleDurationSeconds,
      );
      scaling.push({
        repositories: size,
        remoteColdP50Ms: remoteP50.get(size) ?? Number.NaN,
        localRps: local.rps,
        localP50Ms: local.latencyP50Ms,
        localFailures: local.failures,
      });
    }
    const peakRssMbEnd = await service.peakRssMb();
    await service.stop();
    service = undefined;

    log(`[${build.label} ${backend}] B3 on two new processes, with and without METRICS, in turn`);
    const metricsCost = await compareMetrics(serviceArgs, backend, dir, detailsPath, config);

    const inspector = await openBenchDatabase(storage.target);
    try {
      await inspector.raw("analyze");
      inspector.queries.length = 0;
      const store = new RepositoryStore(inspector.db);
      const listing = await store.findListing("saved");
      if (listing?.repositories.length !== LISTING_SIZE) {
        throw new Error(`the saved listing has ${listing?.repositories.length} repositories`);
      }
      const queriesPerRequestStore = inspector.queries.length;
      if ((await store.findListing("saved", listing.version)) !== "unchanged") {
        throw new Error("the saved listing changed while nothing was saved");
      }
      const forms = ["first read", "check of a held version"];
      const explain = [];
      for (const [index, query] of inspector.queries.entries()) {
        const plan = (
          await inspector.raw(`explain (analyze, buffers, costs off) ${query.sql}`, query.params)
        )
          .map((row) => String(row["QUERY PLAN"]))
          .join("\n");
        explain.push({ form: forms[index] ?? "", sql: query.sql, params: query.params, plan });
      }

      return {
        backend,
        build: build.label,
        startup: { freshMs: fresh.startupMs, existingMs },
        b1: {
          cold: coldResult,
          sequentialMedianMs,
          parallelFloorMedianMs: median(floor),
          upstreamRequestsPerListing,
          speedup: sequentialMedianMs / coldResult.latencyP50Ms,
        },
        b2: {
          service: b2Service,
          bare: b2Bare,
          ratio: b2Service.rps / b2Bare.rps,
          queriesPerRequestStore,
          queriesPerRequestServer,
        },
        b3: {
          service: b3Service,
          bare: b3Bare,
          ratio: b3Service.rps / b3Bare.rps,
          upstreamRequests: detailsUpstream,
          windowSeconds,
        },
        metricsCost,
        b4,
        b5: { peakRssMbThroughB4, peakRssMbEnd },
        wholeSave,
        save,
        scaling,
        explain,
      };
    } finally {
      await inspector.close();
    }
  } finally {
    await Promise.allSettled([service?.stop(), bare?.stop()]);
    await upstream.close();
    await fake.close();
    await storage.dispose();
    await rm(dir, { recursive: true, force: true });
  }
}
