import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../src/db/database.js";
import { migrateCommand } from "../../src/db/migrate-command.js";
import { queryRows } from "../helpers/databases.js";

let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "migrate-command-test-"));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** What the command writes, by stream. */
function capture() {
  const written = { stdout: "", stderr: "" };
  return {
    written,
    output: {
      stdout: { write: (text: string) => (written.stdout += text) },
      stderr: { write: (text: string) => (written.stderr += text) },
    },
  };
}

/** A port that refuses connections: one a listener held, then gave back. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("migrateCommand", () => {
  it("migrates the PGlite data directory the environment names, closes it, and answers 0", async () => {
    const dataDir = join(root, "data");
    const { written, output } = capture();

    expect(await migrateCommand({ DATA_DIR: dataDir }, output)).toBe(0);
    expect(written).toEqual({ stdout: "Migrations applied (pglite).\n", stderr: "" });

    // Closed: PGlite holds its directory while open, and a second client could not open it.
    const database = openDatabase({ dataDir });
    try {
      const rows = await queryRows(
        database,
        sql`select table_name from information_schema.tables where table_schema = 'public' order by 1`,
      );
      expect(rows.map((row) => row.table_name)).toEqual(["repository", "user"]);
    } finally {
      await database.close();
    }
  });

  it("answers 1 on a bad configuration, saying why, having opened nothing", async () => {
    const { written, output } = capture();
    expect(await migrateCommand({ LOG_LEVEL: "loud" }, output)).toBe(1);
    expect(written.stdout).toBe("");
    expect(written.stderr).toMatch(/^Invalid configuration: LOG_LEVEL must be one of /);
  });

  it("answers 1 when the database cannot be reached, saying why", async () => {
    const { written, output } = capture();
    const url = `postgres://postgres@127.0.0.1:${await closedPort()}/nothing`;
    expect(await migrateCommand({ DATABASE_URL: url }, output)).toBe(1);
    expect(written.stdout).toBe("");
    expect(written.stderr).toMatch(/ECONNREFUSED/);
  });
});
