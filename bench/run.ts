import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { PROJECT_ROOT } from "../src/project-root.js";
import { type BackendResult, runBackend, type ServiceBuild } from "./backend-run.js";
import { loadBenchConfig } from "./config.js";
import { IMAGE_COMMAND } from "./image-command.js";
import { type ReplicasResult, runReplicas } from "./replicas.js";
import {
  baselineTable,
  type Check,
  checks,
  replicaChecks,
  scalingTable,
  targetsTable,
} from "./report.js";

/**
 * `npm run bench`: the service as deployed (node dist/server.js) against the fake GitHub, on
 * PGlite and on Postgres, every figure compared with a baseline measured in the same run.
 */
const config = loadBenchConfig(process.env);
if (!existsSync("dist/server.js")) {
  process.stderr.write("dist/server.js is missing: run `npm run build` first.\n");
  process.exit(1);
}

const started = Date.now();
const log = (line: string) =>
  process.stderr.write(`${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s  ${line}\n`);

const current: ServiceBuild = {
  label: "this tree",
  dir: PROJECT_ROOT,
  args: IMAGE_COMMAND.args,
  env: {},
};
/** The baseline runs the way its own commit started the service, flags and all. */
async function baselineBuild(dir: string): Promise<ServiceBuild> {
  if (!existsSync(join(dir, "dist/server.js"))) {
    throw new Error(`${dir}/dist/server.js is missing: run npm ci && npm run build there first`);
  }
  const { IMAGE_COMMAND: command } = (await import(join(dir, "bench/image-command.ts"))) as {
    IMAGE_COMMAND: { args: readonly string[]; env?: Record<string, string> };
  };
  return { label: "baseline", dir, args: command.args, env: { ...command.env } };
}
const baseline = config.baselineDir ? await baselineBuild(config.baselineDir) : undefined;

const results: BackendResult[] = [];
const baselines: BackendResult[] = [];
for (const backend of config.backends) {
  if (baseline) baselines.push(await runBackend(backend, config, log, baseline));
  results.push(await runBackend(backend, config, log, current));
}
const all: Check[] = results.flatMap((result) => checks(result, config));
const replicas: ReplicasResult | undefined = config.redisUrl
  ? await runReplicas({ ...config, redisUrl: config.redisUrl }, log)
  : undefined;
if (replicas) all.push(...replicaChecks(replicas));

const printed = [
  `Upstream latency ${config.latencyMs} ms; throughput runs ${config.durationSeconds} s at ${config.connections} connections; ${cpus().length} CPUs, load average ${loadavg()[0]?.toFixed(2)} at the end.`,
  "",
  targetsTable(all),
  "",
  ...(baseline
    ? [
        `Against the baseline in ${config.baselineDir}, measured in this run (ratio: this tree / baseline):`,
        "",
        baselineTable(results, baselines),
        "",
      ]
    : []),
  "Cost by number of repositories (remote: cold listings, one at a time; local: throughput):",
  "",
  scalingTable(results),
  "",
  ...results.flatMap((result) =>
    result.explain.flatMap((query) => [
      `EXPLAIN ANALYZE of the store's listing query on ${result.backend}, ${query.form}:`,
      query.sql,
      `-- params: ${JSON.stringify(query.params)}`,
      query.plan,
      "",
    ]),
  ),
].join("\n");
process.stdout.write(`${printed}\n`);

await mkdir(dirname(config.output), { recursive: true });
await writeFile(
  config.output,
  `${JSON.stringify(
    {
      finishedAt: new Date().toISOString(),
      seconds: (Date.now() - started) / 1000,
      machine: { cpus: cpus().length, node: process.version, loadAverage: loadavg() },
      config,
      checks: all,
      results,
      baselines,
      replicas,
    },
    null,
    2,
  )}\n`,
);
log(`wrote ${config.output}; ${all.filter((check) => !check.pass).length} target(s) missed`);
