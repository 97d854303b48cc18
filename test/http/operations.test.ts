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
        "/repositories/",
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

  it("declares what tools need: problem+json errors, booleans, operation ids, servers", async () => {
    const { body } = await h.get("/openapi.json");
    expect(body.servers).toEqual([{ url: h.url, description: "This service" }]);
    expect(Object.keys(body.components.schemas)).toEqual(["Problem"]);
    const operations = Object.values(body.paths).flatMap((path: any) => Object.values(path));
    const ids = operations.map((operation: any) => operation.operationId);
    expect(new Set(ids).size).toBe(operations.length);
    for (const operation of operations as any[]) {
      expect(operation.operationId).toMatch(/^[a-z][A-Za-z]+$/);
      expect(operation.description.length).toBeGreaterThan(20);
      for (const [status, response] of Object.entries(operation.responses) as [string, any][]) {
        expect(response.description).not.toBe("Default Response");
        const [mediaType, media] = Object.entries(response.content)[0] as [string, any];
        if (Number(status) >= 400) {
          expect(mediaType).toBe("application/problem+json");
          expect(media.schema).toEqual({ $ref: "#/components/schemas/Problem" });
          expect(Object.keys(media.examples).length).toBeGreaterThan(0);
        } else {
          expect(media.example ?? media.examples).toBeDefined();
        }
      }
    }
    const parameter = (path: string, name: string) =>
      body.paths[path].get.parameters.find((p: { name: string }) => p.name === name);
    for (const path of ["/repositories", "/repositories/"]) {
      for (const name of ["from_local", "save_data"]) {
        expect(parameter(path, name)).toMatchObject({
          required: false,
          schema: { type: "boolean", enum: [false, true], default: false },
        });
      }
    }
    for (const path of ["/repositories/{owner}/{name}", "/repositories/{name}"]) {
      const saveData = parameter(path, "save_data");
      expect(saveData).toMatchObject({
        required: true,
        schema: { type: "boolean", enum: [false, true], example: false },
      });
      expect(saveData.example).toBeUndefined();
    }
    // Swagger UI is served the same document, servers included.
    expect((await h.get("/docs/json")).body).toEqual(body);
  });

  it("still takes every boolean word of API.md, whatever the document shows", async () => {
    h.fake.addUser({ login: "octocat", id: 583231 });
    h.fake.addRepo("octocat", { name: "Hello-World", id: 1296269 });
    for (const word of ["false", "FALSE", "0", "no", "Off"]) {
      const answer = await h.get(`/repositories/?username=octocat&from_local=${word}`);
      expect(answer.status, word).toBe(200);
      expect(answer.body.saved, word).toBe(false);
    }
    for (const word of ["true", "True", "1", "YES", "on"]) {
      const answer = await h.get(`/repositories/octocat/Hello-World?save_data=${word}`);
      expect(answer.status, word).toBe(200);
      expect(answer.body.saved, word).toBe(true);
    }
    const wrong = await h.get("/repositories/octocat/Hello-World?save_data=maybe");
    expect(wrong.status).toBe(400);
    expect(wrong.headers["content-type"]).toBe("application/problem+json; charset=utf-8");
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
