import { existsSync } from "node:fs";
import pg from "pg";
import { afterEach, describe, expect, it, vi } from "vitest";
import { PGLITE_TEMPLATE } from "../../src/db/pglite-template.js";
import { createPostgresDatabase } from "../helpers/databases.js";

/**
 * Each entry point imported in this process, as `node` runs it: one line that hands the
 * process's environment and streams to what src/main.ts, src/db/migrate-command.ts and
 * src/db/pglite-template.ts do (tested beside them). test/server/processes.test.ts runs them
 * as processes.
 */

afterEach(() => {
  vi.unstubAllEnvs();
  process.exitCode = undefined;
});

describe("the entry points, imported", () => {
  it("src/server.ts reads the process's environment, and a bad one sets exit code 1", async () => {
    vi.stubEnv("PORT", "not-a-port");
    await import("../../src/server.js");
    expect(process.exitCode).toBe(1);
  });

  it("src/db/migrate-cli.ts migrates the database the environment names and sets exit code 0", async () => {
    const created = await createPostgresDatabase();
    try {
      vi.stubEnv("DATABASE_URL", created.url);
      await import("../../src/db/migrate-cli.js");
      expect(process.exitCode).toBe(0);
      const client = new pg.Client({ connectionString: created.url });
      await client.connect();
      try {
        const { rows } = await client.query(
          "select table_name from information_schema.tables where table_schema = 'public' order by 1",
        );
        expect(rows.map((row) => row.table_name)).toEqual(["repository", "user"]);
      } finally {
        await client.end();
      }
    } finally {
      await created.drop();
    }
  });

  it("src/db/pglite-template-cli.ts leaves the template in dist/, writing it if it is missing", async () => {
    await import("../../src/db/pglite-template-cli.js");
    expect(existsSync(PGLITE_TEMPLATE)).toBe(true);
    expect(process.exitCode).toBeUndefined();
  }, 60_000);
});
