import type { FastifyInstance } from "fastify";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../src/app.js";
import { loadConfig } from "../../src/config/config.js";
import type { Database, Db } from "../../src/db/database.js";
import { GitHubClient } from "../../src/github/client.js";
import { createGitHubDispatcher } from "../../src/github/dispatcher.js";

/**
 * A 500 cannot be produced by the real parts (every foreseeable failure has its own status), so
 * this one test hands the app a database whose query layer is broken in a way no driver is.
 */
describe("an unforeseen failure", () => {
  let app: FastifyInstance;
  let url: string;
  const dispatcher = createGitHubDispatcher({ timeoutMs: 1_000 });

  beforeAll(async () => {
    const broken = {
      select() {
        throw new TypeError("internal detail: column mix-up in row 42");
      },
    } as unknown as Db;
    const database: Database = {
      kind: "pglite",
      db: broken,
      ping: async () => {},
      migrate: async () => {},
      close: async () => {},
    };
    const config = loadConfig({ LOG_LEVEL: "silent", CORS_ORIGINS: "*" });
    const github = new GitHubClient({ baseUrl: config.githubApiUrl, timeoutMs: 1_000, dispatcher });
    app = await buildApp({ config, database, github });
    url = await app.listen({ host: "127.0.0.1", port: 0 });
  });
  afterAll(async () => {
    await app.close();
    await dispatcher.close();
  });

  it("is a 500 problem that reveals nothing of the cause", async () => {
    const response = await request(`${url}/repositories?username=x&from_local=true`);
    const body = (await response.body.json()) as Record<string, unknown>;
    expect(response.statusCode).toBe(500);
    expect(response.headers["content-type"]).toBe("application/problem+json; charset=utf-8");
    expect(body).toMatchObject({ status: 500, type: "urn:problem:internal" });
    expect(JSON.stringify(body)).not.toContain("row 42");
  });

  it("leaves CORS open to every origin when CORS_ORIGINS is *", async () => {
    const response = await request(`${url}/health`, { headers: { origin: "https://any.example" } });
    await response.body.text();
    expect(response.headers["access-control-allow-origin"]).toBe("*");
  });
});
