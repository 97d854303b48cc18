import pg from "pg";
import { describe, expect, it } from "vitest";
import { createPostgresDatabase } from "../helpers/databases.js";
import { runToExit } from "../helpers/server-process.js";

/**
 * The entry points as processes, from source so that they never meet a stale build (the
 * smoke script runs dist/): what only a process shows, that it ends, and with which code.
 * Draining on a signal is test/server/shutdown.test.ts's.
 */

const SERVER = ["--import", "tsx", "src/server.ts"];
const MIGRATE = ["--import", "tsx", "src/db/migrate-cli.ts"];

describe("the server process", () => {
  it("ends with code 1 on a bad configuration, saying why and nothing else", async () => {
    const result = await runToExit(SERVER, { PORT: "not-a-port" });
    expect(result).toEqual({
      code: 1,
      signal: null,
      stdout: "",
      stderr:
        'Invalid configuration: PORT must be a whole number between 0 and 65535, got "not-a-port"\n',
    });
  });
});

describe("the migrate command", () => {
  it("migrates a new Postgres database, says so, and ends with code 0; again, with nothing to do", async () => {
    const created = await createPostgresDatabase();
    try {
      for (const _run of [1, 2]) {
        const result = await runToExit(MIGRATE, { DATABASE_URL: created.url });
        expect(result).toEqual({
          code: 0,
          signal: null,
          stdout: "Migrations applied (postgres).\n",
          stderr: "",
        });
      }
      const client = new pg.Client({ connectionString: created.url });
      await client.connect();
      try {
        const { rows } = await client.query(
          "select count(*)::int as n from drizzle.__drizzle_migrations",
        );
        expect(rows[0].n).toBeGreaterThan(0);
      } finally {
        await client.end();
      }
    } finally {
      await created.drop();
    }
  });

  it("ends with code 1 on a bad configuration, saying why", async () => {
    const result = await runToExit(MIGRATE, { DATABASE_URL: "mysql://127.0.0.1/x" });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(
      "Invalid configuration: DATABASE_URL must start with postgres:// or postgresql://\n",
    );
  });
});
