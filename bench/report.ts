import type { BackendResult } from "./backend-run.js";
import type { BenchConfig } from "./config.js";
import type { ReplicasResult, RoundCost } from "./replicas.js";

export interface Check {
  backend: string;
  id: string;
  target: string;
  reached: string;
  pass: boolean;
}

// PGlite carries a whole database inside the process.
const RSS_LIMIT_MB = { postgres: 200, pglite: 300 } as const;
// What a whole-account save may add to the listing's own median (issue 16).
const WHOLE_SAVE_LIMIT = { postgres: 1.25, pglite: 1.5 } as const;
// Spawn to /ready (issue 19): on an empty database or data directory, and on existing data.
const STARTUP_LIMIT_MS = {
  postgres: { fresh: 1_000, existing: 1_000 },
  pglite: { fresh: 3_000, existing: 1_500 },
} as const;

const ms = (value: number) => `${value.toFixed(0)} ms`;
const times = (value: number) => `${value.toFixed(2)}×`;

/** Every target of issue 5 for one backend, with the figure this run reached. */
export function checks(result: BackendResult, config: BenchConfig): Check[] {
  const { b1, b2, b3, b4, b5, wholeSave, metricsCost, startup, backend } = result;
  const rssLimit = RSS_LIMIT_MB[backend];
  const wholeSaveLimit = WHOLE_SAVE_LIMIT[backend];
  const latency = config.latencyMs;
  const startupLimit = STARTUP_LIMIT_MS[backend];
  const emptyStore = backend === "pglite" ? "fresh data dir" : "fresh database";
  const server = b2.queriesPerRequestServer;
  return [
    {
      id: "B1 latency",
      target: `cold 1,000-repo listing, median <= 3x upstream (${3 * latency} ms)`,
      reached: `${ms(b1.cold.latencyP50Ms)} = ${times(b1.cold.latencyP50Ms / latency)} upstream (ideal client ${ms(b1.parallelFloorMedianMs)})`,
      pass: b1.cold.latencyP50Ms <= 3 * latency,
    },
    {
      id: "B1 vs sequential",
      target: ">= 3x faster than page-by-page",
      reached: `${times(b1.speedup)} (sequential ${ms(b1.sequentialMedianMs)})`,
      pass: b1.speedup >= 3,
    },
    {
      id: "B2 throughput",
      target: "local 1,000-repo listing >= 50% of bare route",
      reached: `${(b2.ratio * 100).toFixed(0)}% (${b2.service.rps.toFixed(0)} vs ${b2.bare.rps.toFixed(0)} req/s)`,
      pass: b2.ratio >= 0.5,
    },
    {
      id: "B2 queries",
      target: "one SQL query per request",
      reached:
        `store ${b2.queriesPerRequestStore}` +
        (server === null ? "" : `, server ${server.toFixed(3)} (pg_stat_database)`),
      pass: b2.queriesPerRequestStore === 1 && (server === null || Math.round(server) === 1),
    },
    {
      id: "B3 upstream",
      target: "<= 1 upstream request per 60 s cache window",
      reached: `${b3.upstreamRequests} in ${b3.windowSeconds.toFixed(0)} s`,
      pass: b3.upstreamRequests <= Math.ceil(b3.windowSeconds / 60),
    },
    {
      id: "B3 throughput",
      target: "repeated details >= 50% of bare route",
      reached: `${(b3.ratio * 100).toFixed(0)}% (${b3.service.rps.toFixed(0)} vs ${b3.bare.rps.toFixed(0)} req/s)`,
      pass: b3.ratio >= 0.5,
    },
    {
      id: "Metrics cost",
      target: "B3 with metrics >= 90% of the same build with METRICS=false",
      reached: `${(metricsCost.ratio * 100).toFixed(0)}% (${metricsCost.withMetrics.rps.toFixed(0)} vs ${metricsCost.withoutMetrics.rps.toFixed(0)} req/s, two new processes in turn)`,
      pass: metricsCost.ratio >= 0.9,
    },
    {
      id: "B4 coalescing",
      target: `${b4.sent} identical cold listings: upstream <= pages + 1 (${b4.pages + 1})`,
      reached: `${b4.upstreamRequests} upstream, ${b4.ok}/${b4.sent} answered 200`,
      pass: b4.upstreamRequests <= b4.pages + 1 && b4.ok === b4.sent,
    },
    {
      id: "B5 memory",
      target: `peak RSS through B1-B4 <= ${rssLimit} MB`,
      reached: `${b5.peakRssMbThroughB4.toFixed(0)} MB (${b5.peakRssMbEnd.toFixed(0)} MB after scaling)`,
      pass: b5.peakRssMbThroughB4 <= rssLimit,
    },
    {
      id: "Whole save",
      target: `cold 1,000-repo listing saved whole, median <= ${times(wholeSaveLimit)} the listing's`,
      reached: `${times(wholeSave.ratio)} (${ms(wholeSave.saveMedianMs)} vs ${ms(wholeSave.listingMedianMs)}, ${wholeSave.pairs} of each in turn)`,
      pass: wholeSave.ratio <= wholeSaveLimit,
    },
    {
      id: "B5 start-up",
      target: `spawn to /ready <= ${startupLimit.fresh} ms, ${emptyStore}`,
      reached: ms(startup.freshMs),
      pass: startup.freshMs <= startupLimit.fresh,
    },
    {
      id: "B5 start-up",
      target: `spawn to /ready <= ${startupLimit.existing} ms, existing data`,
      reached: ms(startup.existingMs),
      pass: startup.existingMs <= startupLimit.existing,
    },
  ].map((check) => ({ backend, ...check }));
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)),
  );
  const line = (cells: string[]) =>
    `| ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(" | ")} |`;
  return [line(header), line(widths.map((width) => "-".repeat(width))), ...rows.map(line)].join(
    "\n",
  );
}

export function targetsTable(all: Check[]): string {
  return table(
    ["backend", "target", "goal", "reached", "result"],
    all.map((check) => [
      check.backend,
      check.id,
      check.target,
      check.reached,
      check.pass ? "PASS" : "FAIL",
    ]),
  );
}

export function scalingTable(results: BackendResult[]): string {
  return table(
    ["backend", "repositories", "remote cold p50", "local req/s", "local p50"],
    results.flatMap((result) =>
      result.scaling.map((point) => [
        result.backend,
        String(point.repositories),
        ms(point.remoteColdP50Ms),
        point.localRps.toFixed(0),
        `${point.localP50Ms.toFixed(1)} ms`,
      ]),
    ),
  );
}

/** Each figure issue 14 holds to the commit before it, beside that commit's, with the ratio. */
export function baselineTable(results: BackendResult[], baselines: BackendResult[]): string {
  const rows: string[][] = [];
  for (const result of results) {
    const before = baselines.find((candidate) => candidate.backend === result.backend);
    if (before === undefined) continue;
    const figures: Array<[string, number, number, (value: number) => string, string]> = [
      [
        "B1 cold listing p50",
        result.b1.cold.latencyP50Ms,
        before.b1.cold.latencyP50Ms,
        ms,
        "<= 1.05",
      ],
      [
        "B2 local listing req/s",
        result.b2.service.rps,
        before.b2.service.rps,
        (v) => v.toFixed(0),
        ">= 0.90",
      ],
      [
        "B3 repeated details req/s",
        result.b3.service.rps,
        before.b3.service.rps,
        (v) => v.toFixed(0),
        ">= 0.90",
      ],
      [
        "B4 upstream requests",
        result.b4.upstreamRequests,
        before.b4.upstreamRequests,
        String,
        `<= ${result.b4.pages + 1} (pages + 1)`,
      ],
      [
        "peak RSS through B4",
        result.b5.peakRssMbThroughB4,
        before.b5.peakRssMbThroughB4,
        (v) => `${v.toFixed(0)} MB`,
        result.backend === "postgres" ? "<= 200 MB" : "<= 300 MB",
      ],
      [
        "peak RSS at the end",
        result.b5.peakRssMbEnd,
        before.b5.peakRssMbEnd,
        (v) => `${v.toFixed(0)} MB`,
        result.backend === "postgres" ? "<= 200 MB" : "<= 300 MB",
      ],
    ];
    for (const [name, now, then, format, goal] of figures) {
      rows.push([result.backend, name, format(then), format(now), (now / then).toFixed(3), goal]);
    }
  }
  return table(["backend", "figure", "baseline", "this tree", "ratio", "goal"], rows);
}

/**
 * Issue 14's replica scenario: three replicas sharing one Redis spend GitHub's rate limit as one
 * replica does, round by round, and nothing once restarted.
 */
export function replicaChecks(result: ReplicasResult): Check[] {
  const { single, three, restarted } = result;
  const ratio = (now: number, then: number) =>
    then === 0 ? (now === 0 ? 1 : Infinity) : now / then;
  const round = (name: string, one: RoundCost, many: RoundCost): Check => ({
    backend: "postgres+redis",
    id: `Replicas, ${name}`,
    target: "3 replicas: GitHub answers other than 304 = 1 replica's",
    reached: `${many.costly} vs ${one.costly} (ratio ${ratio(many.costly, one.costly).toFixed(2)}; 304s ${many.revalidated} vs ${one.revalidated})`,
    pass: many.costly === one.costly,
  });
  return [
    round("cold round", single.first, three.first),
    round(`after max-age (${result.maxAgeSeconds} s)`, single.second, three.second),
    {
      backend: "postgres+redis",
      id: "Replicas, restarted",
      target: "all 3 restarted, a third round: no GitHub answer but 304",
      reached: `${restarted.costly} costly, ${restarted.revalidated} answered 304`,
      pass: restarted.costly === 0,
    },
  ];
}
