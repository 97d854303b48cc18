import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeGitHub } from "../fake-github/server.js";
import { openTestDatabase } from "../helpers/databases.js";
import { type Harness, startHarness } from "../helpers/harness.js";
import { startInProcessService } from "../helpers/in-process-service.js";

describe("operations endpoints", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  it("answers /health and /ready", async () => {
    expect(await h.get("/health")).toMatchObject({ status: 200, body: { status: "ok" } });
    // Before any GitHub request there is no budget to report.
    expect(await h.get("/ready")).toMatchObject({
      status: 200,
      body: { status: "ready", checks: { database: "ok", github_budget: null } },
    });
  });

  it("serves Swagger UI at /docs", async () => {
    const response = await h.get("/docs/");
    expect(response.status).toBe(200);
    expect(response.text).toContain("swagger");
  });

  it("describes every endpoint in /openapi.json", async () => {
    const { status, body } = await h.get("/openapi.json");
    expect(status).toBe(200);
    expect(body.openapi).toMatch(/^3\./);
    expect(Object.keys(body.paths).sort()).toEqual(
      [
        "/health",
        "/metrics",
        "/ready",
        "/repositories",
        "/repositories/{name}",
        "/repositories/{owner}/{name}",
      ].sort(),
    );
    const listing = body.paths["/repositories"].get;
    expect(listing.parameters.map((p: { name: string }) => p.name).sort()).toEqual([
      "from_local",
      "save_data",
      "username",
    ]);
    const answer = listing.responses["200"].content["application/json"];
    expect(Object.keys(answer.schema.properties)).toEqual(
      expect.arrayContaining(["saved", "synced_at", "repositories"]),
    );
    expect(Object.values(answer.examples).map((e: any) => e.value.source)).toEqual([
      "github",
      "local",
    ]);
    expect(Object.keys(listing.responses)).toEqual(
      expect.arrayContaining(["200", "400", "404", "502", "503", "504"]),
    );
  });

  it("sends security headers and no CORS headers by default", async () => {
    const response = await h.get("/health");
    expect(response.headers["x-content-type-options"]).toBe("nosniff");
    expect(response.headers["access-control-allow-origin"]).toBeUndefined();
  });

  it("answers unknown paths and overlong URLs with problem details", async () => {
    const unknown = await h.get("/nothing-here");
    expect(unknown.status).toBe(404);
    expect(unknown.headers["content-type"]).toBe("application/problem+json; charset=utf-8");
    const long = await h.get(`/repositories?username=a&pad=${"x".repeat(3000)}`);
    expect(long.status).toBe(414);
  });

  it("answers /ready with 503 once the database is gone", async () => {
    const fake = await FakeGitHub.start();
    const test = await openTestDatabase("pglite");
    const other = await startInProcessService({ database: test.database, githubUrl: fake.url });
    let databaseClosed = false;
    try {
      expect((await other.get("/metrics")).text).toMatch(/^database_up 1$/m);
      await test.database.close();
      databaseClosed = true;
      const response = await other.get("/ready");
      expect(response.status).toBe(503);
      expect(response.headers["retry-after"]).toBe("5");
      // Metrics still answer, and say what an alert on the database watches for.
      const metrics = await other.get("/metrics");
      expect(metrics.status).toBe(200);
      expect(metrics.text).toMatch(/^database_up 0$/m);
    } finally {
      await other.close();
      await fake.close();
      if (!databaseClosed) await test.dispose();
    }
  });
});

describe("optional protections from the environment", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      env: { CORS_ORIGINS: "https://app.example", RATE_LIMIT_PER_MINUTE: "3" },
    });
  });
  afterAll(() => h.close());

  it("allows the configured CORS origin", async () => {
    const { request } = await import("undici");
    const response = await request(`${h.url}/health`, {
      headers: { origin: "https://app.example" },
    });
    await response.body.text();
    expect(response.headers["access-control-allow-origin"]).toBe("https://app.example");
  });

  it("limits each client to the configured requests per minute with a 429 problem", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await h.get("/repositories?username=nobody&from_local=true")).status);
    expect(statuses).toEqual([404, 404, 404, 429]);
    const limited = await h.get("/repositories?username=nobody&from_local=true");
    expect(limited.headers["content-type"]).toBe("application/problem+json; charset=utf-8");
    expect(limited.headers["retry-after"]).toBeDefined();
    expect((await h.get("/health")).status).toBe(200);
  });
});
