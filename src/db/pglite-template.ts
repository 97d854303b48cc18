import { existsSync, readFileSync } from "node:fs";
import { access, mkdir, readdir, rename, rm, rmdir, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { PGlite, type PGliteOptions } from "@electric-sql/pglite";
import { NodeFS } from "@electric-sql/pglite/nodefs";
import { extract as extractTar } from "tar";
import { PROJECT_ROOT } from "../project-root.js";

// A cluster opens only under the Postgres build that made it, so the template is named after
// the PGlite release that carries that build; another release looks for another file.
const PGLITE_MANIFEST = join(
  dirname(createRequire(import.meta.url).resolve("@electric-sql/pglite")),
  "../package.json",
);
const PGLITE_VERSION: string = JSON.parse(readFileSync(PGLITE_MANIFEST, "utf8")).version;

/**
 * Where the build writes the template (see pglite-template-cli.ts): in dist/, which the
 * Dockerfile's runtime stage copies, and where source and build alike look for it.
 */
export const PGLITE_TEMPLATE = join(
  PROJECT_ROOT,
  "dist",
  `pglite-template-${PGLITE_VERSION}.tar.gz`,
);

// Where the template is unpacked and tried: inside the data directory, so moving its files into
// place is a rename on the same filesystem even when the data directory is a mount point.
const STAGING = ".template";

/**
 * Writes a gzipped tarball of a freshly initialised, empty cluster to `file`, unless one is
 * there already. Migrations are not in it: they still run at every start.
 */
export async function writePgliteTemplate(file = PGLITE_TEMPLATE): Promise<boolean> {
  if (existsSync(file)) return false;
  // dist/ is not there before the first build writes into it.
  await mkdir(dirname(file), { recursive: true });
  const client = new PGlite("memory://");
  // dumpDataDir() called before the start has finished deadlocks with it and never settles.
  await client.waitReady;
  const tarball = await client.dumpDataDir("gzip");
  await client.close();
  // Renamed into place whole, so a build cut short leaves no truncated template behind.
  const partial = `${file}.${process.pid}.partial`;
  await writeFile(partial, Buffer.from(await tarball.arrayBuffer()));
  await rename(partial, file);
  return true;
}

/**
 * `npm run build`'s last step (src/db/pglite-template-cli.ts only calls this): writes the
 * template unless it is there already, and says which.
 */
export async function templateCommand(
  stdout: { write(text: string): unknown },
  file = PGLITE_TEMPLATE,
): Promise<void> {
  const written = await writePgliteTemplate(file);
  stdout.write(`PGlite template ${written ? "written to" : "already in"} ${file}\n`);
}

/**
 * Fills an empty data directory from the template. The template is unpacked into a staging
 * directory and started there first: if it is missing, damaged or made by another Postgres
 * build, that fails, the staging directory goes, and the data directory stays empty for
 * PGlite's own initdb. A directory with anything in it is left to PGlite as it is.
 */
async function seedDataDir(dataDir: string, template: string, options: PGliteOptions) {
  const staging = join(dataDir, STAGING);
  // What a start killed while seeding left behind.
  await rm(staging, { recursive: true, force: true });
  if ((await readdir(dataDir)).length > 0) return;
  try {
    await mkdir(staging);
    // dumpDataDir() names its entries from the root ("/base/1/…"), which tar reads relative to
    // `cwd` after telling so (TAR_ENTRY_INFO); anything else it warns of (a damaged archive, an
    // entry that would land outside) fails here rather than as a broken cluster. Synchronous:
    // it runs once, on a first start, and a thousand small writes through the thread pool take
    // two to three times longer.
    const problems: string[] = [];
    extractTar({
      file: template,
      cwd: staging,
      sync: true,
      onwarn: (code, message) => {
        if (code !== "TAR_ENTRY_INFO") problems.push(`${code}: ${message}`);
      },
    });
    if (problems.length > 0) throw new Error(problems.join("; "));
    // Without PG_VERSION, PGlite would take the staging directory for a new one and run initdb.
    await access(join(staging, "PG_VERSION"));
    // A cluster opens only under the Postgres build that made it: this start is the proof.
    const trial = new PGlite(staging, options);
    await trial.waitReady;
    await trial.close();
  } catch {
    await rm(staging, { recursive: true, force: true });
    return;
  }
  // PGlite takes a directory with PG_VERSION for a cluster and resumes it, so that file moves
  // last: a start cut short before then leaves a directory that initdb simply overwrites.
  const names = (await readdir(staging)).filter((name) => name !== "PG_VERSION");
  await Promise.all(names.map((name) => rename(join(staging, name), join(dataDir, name))));
  await rename(join(staging, "PG_VERSION"), join(dataDir, "PG_VERSION"));
  await rmdir(staging);
}

/**
 * PGlite's filesystem for a directory on disk, which on a first start fills the directory from
 * the template instead of running initdb (3 to 5 s of WebAssembly on two cores). PGlite awaits
 * init() before it looks for a cluster, so the seeding fits in PGlite's own start-up.
 */
export class TemplateNodeFS extends NodeFS {
  readonly #template: string;
  readonly #options: PGliteOptions;

  /** `options` are those of the client, so that the trial start runs as the real one will. */
  constructor(dataDir: string, template: string, options: PGliteOptions) {
    super(dataDir);
    this.#template = template;
    this.#options = options;
  }

  override async init(...args: Parameters<NodeFS["init"]>) {
    await seedDataDir(this.rootDir, this.#template, this.#options);
    return super.init(...args);
  }
}
