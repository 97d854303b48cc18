import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { gzipSync } from "node:zlib";
import { PGlite } from "@electric-sql/pglite";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, openDatabase } from "../../src/db/database.js";
import {
  PGLITE_TEMPLATE,
  templateCommand,
  writePgliteTemplate,
} from "../../src/db/pglite-template.js";
import { queryRows } from "../helpers/databases.js";

let root: string;
/** What writePgliteTemplate() writes: an initialised, empty cluster. */
let template: string;
/** The template plus a table named template_marker, so a test can tell that a start used it. */
let marked: string;
/** The marked template claiming another Postgres major version, as one made by another build. */
let otherVersion: string;
/** The marked template cut short. */
let truncated: string;
/** Well-formed gzip around something that is no cluster. */
let notCluster: string;
/** A tar whose one file would land beside the data directory, not in it. */
let escaping: string;
let directories = 0;

async function dumpTo(client: PGlite, file: string): Promise<void> {
  const tarball = await client.dumpDataDir("gzip");
  await writeFile(file, Buffer.from(await tarball.arrayBuffer()));
}

/** One ustar entry: the fields the template's reader looks at, then the data. */
function tarEntry(name: string, data: string): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0, "latin1");
  header.write(`${data.length.toString(8).padStart(11, "0")}\0`, 124, "latin1");
  header.write("0", 156, "latin1");
  header.write("ustar\0", 257, "latin1");
  const body = Buffer.alloc(Math.ceil(data.length / 512) * 512);
  body.write(data, "latin1");
  return Buffer.concat([header, body]);
}

function newDataDir(): string {
  directories += 1;
  return join(root, `data-${directories}`);
}

async function tableNames(database: Database): Promise<string[]> {
  const rows = await queryRows(
    database,
    sql`select table_name from information_schema.tables where table_schema = 'public' order by 1`,
  );
  return rows.map((row) => String(row.table_name));
}

/** What a migrated database holds besides the tables a template may bring. */
const MIGRATED = ["kept", "repository", "user"];

/** Opens and migrates, as the server does, and writes one row that a reopen must find. */
async function firstStart(dataDir: string, pgliteTemplate: string): Promise<string[]> {
  const database = openDatabase({ dataDir, pgliteTemplate });
  try {
    await database.migrate();
    await database.db.execute(sql`create table kept (note text)`);
    await database.db.execute(sql`insert into kept values ('written after the first start')`);
    return await tableNames(database);
  } finally {
    await database.close();
  }
}

async function reopen(dataDir: string, pgliteTemplate: string): Promise<unknown[]> {
  const database = openDatabase({ dataDir, pgliteTemplate });
  try {
    await database.migrate();
    return (await queryRows(database, sql`select note from kept`)).map((row) => row.note);
  } finally {
    await database.close();
  }
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "pglite-template-test-"));
  template = join(root, "template.tar.gz");
  marked = join(root, "marked.tar.gz");
  otherVersion = join(root, "other-version.tar.gz");
  truncated = join(root, "truncated.tar.gz");
  notCluster = join(root, "not-a-cluster.tar.gz");
  escaping = join(root, "escaping.tar.gz");

  expect(await writePgliteTemplate(template)).toBe(true);
  const client = new PGlite("memory://", { loadDataDir: new Blob([await readFile(template)]) });
  await client.waitReady;
  try {
    await client.exec("create table template_marker ()");
    await dumpTo(client, marked);
    client.Module.FS.writeFile(`${PGlite.paths.PGDATA}/PG_VERSION`, "16\n");
    await dumpTo(client, otherVersion);
  } finally {
    await client.close();
  }
  const whole = await readFile(marked);
  await writeFile(truncated, whole.subarray(0, whole.length / 2));
  await writeFile(notCluster, gzipSync("no tar, no cluster"));
  const archive = [tarEntry("PG_VERSION", "18\n"), tarEntry("../../escaped", "x")];
  await writeFile(escaping, gzipSync(Buffer.concat([...archive, Buffer.alloc(1024)])));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("writePgliteTemplate", () => {
  it("leaves an existing template alone", async () => {
    const before = await readFile(template);
    expect(await writePgliteTemplate(template)).toBe(false);
    expect((await readFile(template)).equals(before)).toBe(true);
  });

  it("writes into a directory that is not there yet, as dist/ before the first build", async () => {
    const file = join(root, "not-yet", "built", "template.tar.gz");
    expect(await writePgliteTemplate(file)).toBe(true);
    expect((await readFile(file)).length).toBeGreaterThan(0);
  });

  it("names the default template after the installed PGlite, in dist/", async () => {
    const require = createRequire(import.meta.url);
    const manifest = join(dirname(require.resolve("@electric-sql/pglite")), "../package.json");
    const { version } = JSON.parse(await readFile(manifest, "utf8"));
    expect(PGLITE_TEMPLATE).toMatch(new RegExp(`/dist/pglite-template-${version}\\.tar\\.gz$`));
  });
});

describe("templateCommand, the build's last step", () => {
  it("says where it wrote the template, or that it was there already", async () => {
    let stdout = "";
    const write = (text: string) => (stdout += text);
    const file = join(root, "command.tar.gz");

    await templateCommand({ write }, file);
    await templateCommand({ write }, file);

    expect(stdout).toBe(`PGlite template written to ${file}\nPGlite template already in ${file}\n`);
  });
});

describe("a new PGlite data directory", () => {
  it("starts from the template, migrates, and keeps its data across a close and a reopen", async () => {
    const dataDir = newDataDir();
    const tables = await firstStart(dataDir, marked);
    expect(tables).toEqual(expect.arrayContaining([...MIGRATED, "template_marker"]));
    const entries = await readdir(dataDir);
    expect(entries).toContain("PG_VERSION");
    expect(entries).not.toContain(".template");
    // Reopened without a template, so the rows can only come from the directory itself.
    expect(await reopen(dataDir, join(root, "missing.tar.gz"))).toEqual([
      "written after the first start",
    ]);
  });

  it("starts from the template that writePgliteTemplate wrote", async () => {
    const dataDir = newDataDir();
    const tables = await firstStart(dataDir, template);
    expect(tables).toEqual(expect.arrayContaining(MIGRATED));
    expect(tables).not.toContain("template_marker");
    expect(await reopen(dataDir, template)).toEqual(["written after the first start"]);
  });

  it.each([
    ["missing", () => join(root, "missing.tar.gz")],
    ["cut short", () => truncated],
    ["no cluster", () => notCluster],
    ["an archive with a path outside it", () => escaping],
    ["made by another Postgres version", () => otherVersion],
  ])("falls back to initdb when the template is %s", async (_name, pick) => {
    const dataDir = newDataDir();
    const tables = await firstStart(dataDir, pick());
    expect(tables).toEqual(expect.arrayContaining(MIGRATED));
    expect(tables).not.toContain("template_marker");
    expect(await readdir(dataDir)).not.toContain(".template");
    expect(await readdir(root)).not.toContain("escaped");
    expect(await reopen(dataDir, pick())).toEqual(["written after the first start"]);
  });

  it("clears what a start killed while seeding left behind, then seeds", async () => {
    const dataDir = newDataDir();
    await mkdir(join(dataDir, ".template", "base"), { recursive: true });
    await writeFile(join(dataDir, ".template", "PG_VERSION"), "17\n");
    expect(await firstStart(dataDir, marked)).toContain("template_marker");
    expect(await readdir(dataDir)).not.toContain(".template");
  });

  it("leaves a directory that is not empty to initdb, since it may hold part of a cluster", async () => {
    const dataDir = newDataDir();
    await mkdir(dataDir);
    await writeFile(join(dataDir, "postgresql.conf"), "");
    expect(await firstStart(dataDir, marked)).not.toContain("template_marker");
  });
});

describe("the embedded database's settings", () => {
  it.each([
    ["the template", () => template],
    ["initdb", () => join(root, "missing.tar.gz")],
  ])(
    "keep the buffer pool at 4 MB in a directory made by %s, across a reopen",
    async (_name, pick) => {
      const dataDir = newDataDir();
      await firstStart(dataDir, pick());
      const database = openDatabase({ dataDir, pgliteTemplate: pick() });
      try {
        const rows = await queryRows(database, sql`show shared_buffers`);
        expect(rows).toEqual([{ shared_buffers: "4MB" }]);
      } finally {
        await database.close();
      }
    },
  );
});

describe("an existing PGlite data directory", () => {
  it("is opened as it is, whatever the template", async () => {
    const dataDir = newDataDir();
    await firstStart(dataDir, join(root, "missing.tar.gz"));
    const database = openDatabase({ dataDir, pgliteTemplate: marked });
    try {
      const tables = await tableNames(database);
      expect(tables).toContain("kept");
      expect(tables).not.toContain("template_marker");
    } finally {
      await database.close();
    }
  });
});
