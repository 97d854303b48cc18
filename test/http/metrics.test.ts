import { readFileSync } from "node:fs";
import { join } from "node:path";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { tokenFingerprint } from "../../src/observability/github-traffic.js";
import { PROJECT_ROOT } from "../../src/project-root.js";
import { type Harness, startHarness } from "../helpers/harness.js";

const TOKEN = "ghp_metricsTestToken0123456789abcdefABCD";

interface Family {
  name: string;
  type: string;
  metrics: Array<{ value?: string; labels?: Record<string, string>; count?: string }>;
}

interface Scrape {
  families: Map<string, Family>;
  /** The `_count` series of each histogram, keyed by its labels as written. */
  counts: Array<{ name: string; labels: Record<string, string>; value: number }>;
}

async function scrape(h: Harness): Promise<Scrape> {
  const answer = await h.get("/metrics");
  expect(answer.status).toBe(200);
  expect(answer.headers["content-type"]).toMatch(/^text\/plain; version=0\.0\.4/);
  const families = parsePrometheusTextFormat(answer.text) as Family[];
  // The parser merges a labelled histogram's series into one, so its counts are read from the
  // text the parser has just accepted.
  const counts = [...answer.text.matchAll(/^(\w+)_count\{(.*)\} (\S+)$/gm)].map((match) => ({
    name: match[1] as string,
    labels: Object.fromEntries(
      [...(match[2] as string).matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((label) => [
        label[1],
        label[2],
      ]),
    ),
    value: Number(match[3]),
  }));
  return { families: new Map(families.map((family) => [family.name, family])), counts };
}

function histogramCount(scraped: Scrape, name: string, labels: Record<string, string>) {
  return scraped.counts
    .filter((series) => series.name === name)
    .filter((series) =>
      Object.entries(labels).every(([key, value]) => series.labels[key] === value),
    )
    .reduce((sum, series) => sum + series.value, 0);
}

/** The value of the one series of `name` whose labels include `labels`; 0 when there is none. */
function sampleValue({ families }: Scrape, name: string, labels: Record<string, string>) {
  const series = families
    .get(name)
    ?.metrics.filter((metric) =>
      Object.entries(labels).every(([key, value]) => metric.labels?.[key] === value),
    );
  return (series ?? []).reduce((sum, metric) => sum + Number(metric.value), 0);
}

describe("GET /metrics", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { GITHUB_TOKEN: TOKEN, RATE_LIMIT_PER_MINUTE: "5" } });
    h.fake.addUser({ login: "octo-metrics", repoCount: 3 });
  });
  afterAll(() => h.close());

  it("counts answers by route pattern and status class, never by raw URL", async () => {
    const before = await scrape(h);
    expect((await h.get("/repositories/?username=octo-metrics")).status).toBe(200);
    expect((await h.get("/repositories/?username=nobody-here")).status).toBe(404);
    expect((await h.get("/no/such/path")).status).toBe(404);
    const after = await scrape(h);
    const histogram = "http_request_duration_seconds";
    const delta = (labels: Record<string, string>) =>
      histogramCount(after, histogram, labels) - histogramCount(before, histogram, labels);
    expect(after.families.get(histogram)?.type).toBe("HISTOGRAM");
    expect(delta({ route: "/repositories", status_class: "2xx" })).toBe(1);
    expect(delta({ route: "/repositories", status_class: "4xx" })).toBe(1);
    expect(delta({ route: "unmatched", status_class: "4xx" })).toBe(1);
  });

  it("counts GitHub's answers by kind and outcome, a revalidation as a 304", async () => {
    const before = await scrape(h);
    const repo = h.fake.addRepo("octo-metrics", { name: "counted" });
    expect((await h.get(`/repositories/octo-metrics/${repo.name}?save_data=false`)).status).toBe(
      200,
    );
    const after = await scrape(h);
    const delta = (labels: Record<string, string>) =>
      sampleValue(after, "github_requests_total", labels) -
      sampleValue(before, "github_requests_total", labels);
    expect(delta({ kind: "repository", outcome: "200" })).toBe(1);
    // GitHub's max-age (60 s) runs out; only Date is faked, sockets and timers stay real.
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      vi.setSystemTime(Date.now() + 61_000);
      expect((await h.get(`/repositories/octo-metrics/${repo.name}?save_data=false`)).status).toBe(
        200,
      );
    } finally {
      vi.useRealTimers();
    }
    const revalidated = await scrape(h);
    expect(
      sampleValue(revalidated, "github_requests_total", { kind: "repository", outcome: "304" }) -
        sampleValue(after, "github_requests_total", { kind: "repository", outcome: "304" }),
    ).toBe(1);
  });

  it("counts the cache's hits, revalidations and misses, and shows its store up", async () => {
    const repo = h.fake.addRepo("octo-metrics", { name: "cached" });
    const before = await scrape(h);
    const path = `/repositories/octo-metrics/${repo.name}?save_data=false`;
    expect((await h.get(path)).status).toBe(200);
    expect((await h.get(path)).status).toBe(200);
    expect((await h.get(path)).status).toBe(200);
    const after = await scrape(h);
    const delta = (result: string) =>
      sampleValue(after, "github_cache_lookups_total", { result }) -
      sampleValue(before, "github_cache_lookups_total", { result });
    expect(delta("miss")).toBe(1);
    expect(delta("hit")).toBe(2);
    expect(delta("revalidated")).toBe(0);
    expect(sampleValue(after, "github_cache_store_up", { store: "memory" })).toBe(1);
    expect(sampleValue(after, "github_cache_store_errors_total", {})).toBe(0);
  });

  it("shows GitHub's budget per token fingerprint, and never the token or a username", async () => {
    const families = await scrape(h);
    const fingerprint = tokenFingerprint(`Bearer ${TOKEN}`);
    expect(fingerprint).toMatch(/^[0-9a-f]{8}$/);
    const seen = h.fake.requests.at(-1);
    expect(seen?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(sampleValue(families, "github_rate_limit_limit", { token: fingerprint })).toBe(5000);
    const remaining = sampleValue(families, "github_rate_limit_remaining", { token: fingerprint });
    expect(remaining).toBeGreaterThanOrEqual(0);
    expect(remaining).toBeLessThan(5000);
    const ready = await h.get("/ready");
    expect(ready.body).toEqual({
      status: "ready",
      checks: {
        database: "ok",
        github_budget: {
          limit: 5000,
          remaining,
          reset: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        },
      },
    });
    const text = (await h.get("/metrics")).text;
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain(TOKEN.slice(4, 20));
    expect(text).not.toContain("octo-metrics");
    expect(text).not.toContain("nobody-here");
  });

  it("shows the process and the database", async () => {
    const { families } = await scrape(h);
    expect(families.has("process_cpu_seconds_total")).toBe(true);
    expect(families.has("nodejs_eventloop_lag_seconds")).toBe(true);
    // The harness's database is PGlite, which has no pool; the Postgres test below has one.
    expect(families.has("db_pool_connections")).toBe(false);
  });

  it("leaves /metrics, /health and /ready out of the rate limit and the histogram", async () => {
    for (let i = 0; i < 8; i++) {
      expect((await h.get("/health")).status).toBe(200);
      expect((await h.get("/ready")).status).toBe(200);
      expect((await h.get("/metrics")).status).toBe(200);
    }
    const routes = (await scrape(h)).counts.map((series) => series.labels.route);
    expect(routes).toContain("/repositories");
    expect(routes).not.toContain("/metrics");
    expect(routes).not.toContain("/health");
    expect(routes).not.toContain("/ready");
  });
});

describe("GET /metrics after GitHub's rate limit", () => {
  let h: Harness;
  // A service of its own: after a rate limit it asks GitHub nothing more until the reset.
  beforeAll(async () => {
    h = await startHarness({ env: { GITHUB_TOKEN: TOKEN } });
    h.fake.addUser({ login: "octo-limited", repoCount: 1 });
  });
  afterAll(() => h.close());

  it("counts a rate-limited answer as such", async () => {
    h.fake.injectFault({ kind: "rate-limit", path: "/repos/octo-limited/limited", times: 1 });
    expect((await h.get("/repositories/octo-limited/limited?save_data=false")).status).toBe(503);
    const scraped = await scrape(h);
    expect(
      sampleValue(scraped, "github_requests_total", {
        kind: "repository",
        outcome: "rate_limited",
      }),
    ).toBe(1);
  });
});

describe("GET /metrics on Postgres", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ backend: "postgres" });
  });
  afterAll(() => h.close());

  it("shows the connection pool", async () => {
    expect((await h.get("/ready")).status).toBe(200);
    const families = await scrape(h);
    expect(sampleValue(families, "db_pool_connections", { state: "idle" })).toBeGreaterThanOrEqual(
      1,
    );
    expect(sampleValue(families, "db_pool_connections", { state: "in_use" })).toBe(0);
    expect(sampleValue(families, "db_pool_waiting", {})).toBe(0);
  });

  it("has every metric the dashboard and the alert rules ask for", async () => {
    h.fake.addUser({ login: "octo-dashboard", repoCount: 1 });
    expect((await h.get("/repositories/?username=octo-dashboard")).status).toBe(200);
    const { families } = await scrape(h);
    const queries = [
      readFileSync(join(PROJECT_ROOT, "deploy/grafana/dashboard.json"), "utf8"),
      readFileSync(join(PROJECT_ROOT, "deploy/prometheus/alerts.yml"), "utf8"),
    ].join("\n");
    const asked = new Set(
      [
        ...queries.matchAll(
          /\b((?:http|github|database|db_pool|process|nodejs)_[a-z_]+?)(?:_bucket|_count|_sum)?\b/g,
        ),
      ].map((match) => match[1] as string),
    );
    expect(asked.size).toBeGreaterThanOrEqual(8);
    for (const name of asked) expect(families.has(name), name).toBe(true);
  });
});

describe("X-Request-Id", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  async function send(path: string, id?: string) {
    const response = await request(`${h.url}${path}`, {
      headers: id === undefined ? {} : { "x-request-id": id },
    });
    await response.body.text();
    return String(response.headers["x-request-id"]);
  }

  it("sends back a well-formed id and carries it on the request's log line", async () => {
    const id = "client-42.retry_1";
    expect(await send("/health", id)).toBe(id);
    const line = h.logs.map((raw) => JSON.parse(raw)).find((entry) => entry.reqId === id);
    expect(line).toMatchObject({ msg: "request completed", req: { url: "/health" } });
  });

  it("sends it on problems, routed or not", async () => {
    expect(await send("/repositories/?username=", "on-a-400")).toBe("on-a-400");
    expect(await send("/nothing-here", "on-a-404")).toBe("on-a-404");
    expect(await send(`/health?${"x".repeat(3000)}`, "on-a-414")).toBe("on-a-414");
  });

  it("replaces a missing, overlong or malformed id with a new one, never echoing it", async () => {
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    for (const bad of [undefined, "", "x".repeat(129), "has space", "<script>", "a/b", "é"]) {
      const answered = await send("/health", bad);
      expect(answered).toMatch(uuid);
      expect(answered).not.toBe(bad);
    }
    expect(await send("/health", "x".repeat(128))).toBe("x".repeat(128));
    const first = await send("/health");
    expect(await send("/health")).not.toBe(first);
  });
});

describe("with METRICS=false", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { METRICS: "false", GITHUB_TOKEN: TOKEN } });
    h.fake.addUser({ login: "unmeasured", repoCount: 2 });
  });
  afterAll(() => h.close());

  it("serves no /metrics, and still the API and GitHub's budget on /ready", async () => {
    expect((await h.get("/metrics")).status).toBe(404);
    expect((await h.get("/repositories/?username=unmeasured")).status).toBe(200);
    const ready = await h.get("/ready");
    expect(ready.status).toBe(200);
    expect(ready.body.checks.github_budget).toMatchObject({ limit: 5000 });
  });
});
