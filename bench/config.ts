import { resolve } from "node:path";

/** What one `npm run bench` does, from environment variables with defaults sized for ~4 minutes. */
export interface BenchConfig {
  backends: Array<"pglite" | "postgres">;
  /** Delay the fake GitHub adds before every answer. */
  latencyMs: number;
  /** Seconds of each throughput run (B2, B3, and each side of their comparison). */
  durationSeconds: number;
  /** Seconds of each throughput run of the scaling table. */
  scaleDurationSeconds: number;
  /** Concurrent connections of every throughput run. */
  connections: number;
  /** Cold listings measured for B1, one distinct 1,000-repository user each. */
  coldSamples: number;
  /** Sequential page-by-page fetches measured for B1's baseline. */
  baselineSamples: number;
  /** Cold listings per size in the scaling table. */
  scaleSamples: number;
  sizes: number[];
  /** Identical listings sent at once for B4. */
  coalesceRequests: number;
  /** Where Postgres databases are created and dropped. */
  postgresAdminUrl: string;
  /** Where the JSON is written; bench/results/latest.json unless BENCH_OUTPUT says otherwise. */
  output: string;
  /**
   * A built checkout of an earlier commit (BENCH_BASELINE_DIR), measured in the same run,
   * backend by backend before this tree, so that each figure has its ratio to that commit's.
   */
  baselineDir: string | undefined;
  /**
   * The Redis of the replica scenario (BENCH_REDIS_URL, a database of its own, emptied before
   * use); `off` leaves the scenario out.
   */
  redisUrl: string | undefined;
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`${name} must be an integer of at least ${min}, not "${raw}"`);
  }
  return value;
}

function list(env: NodeJS.ProcessEnv, name: string, fallback: string): string[] {
  return (env[name] ?? fallback)
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

export function loadBenchConfig(env: NodeJS.ProcessEnv): BenchConfig {
  const backends = list(env, "BENCH_BACKENDS", "pglite,postgres");
  for (const backend of backends) {
    if (backend !== "pglite" && backend !== "postgres") {
      throw new Error(`BENCH_BACKENDS must list pglite and/or postgres, not "${backend}"`);
    }
  }
  const sizes = list(env, "BENCH_SIZES", "10,100,1000,5000").map(Number);
  if (sizes.some((size) => !Number.isInteger(size) || size < 1)) {
    throw new Error("BENCH_SIZES must be a comma-separated list of positive integers");
  }
  return {
    backends: backends as BenchConfig["backends"],
    latencyMs: integer(env, "BENCH_LATENCY_MS", 50, 0),
    durationSeconds: integer(env, "BENCH_DURATION", 10, 1),
    scaleDurationSeconds: integer(env, "BENCH_SCALE_DURATION", 5, 1),
    connections: integer(env, "BENCH_CONNECTIONS", 10, 1),
    coldSamples: integer(env, "BENCH_COLD_SAMPLES", 20, 1),
    baselineSamples: integer(env, "BENCH_BASELINE_SAMPLES", 10, 1),
    scaleSamples: integer(env, "BENCH_SCALE_SAMPLES", 5, 1),
    sizes,
    coalesceRequests: integer(env, "BENCH_COALESCE_REQUESTS", 100, 1),
    postgresAdminUrl:
      env.BENCH_POSTGRES_URL ??
      env.TEST_DATABASE_URL ??
      "postgres://postgres@127.0.0.1:5432/postgres",
    output: env.BENCH_OUTPUT ?? "bench/results/latest.json",
    // Absolute, as the baseline's modules are imported by path and its processes run there.
    baselineDir: env.BENCH_BASELINE_DIR ? resolve(env.BENCH_BASELINE_DIR) : undefined,
    redisUrl:
      env.BENCH_REDIS_URL === "off"
        ? undefined
        : (env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379/9"),
  };
}
