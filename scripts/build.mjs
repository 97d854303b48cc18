/**
 * `npm run build`: bundles each entry point with its dependencies into one file in dist/.
 * Node then reads and compiles one module instead of some 400: in alternating starts on
 * Postgres, /ready came after 1.0 s instead of 1.7 to 1.9 s, and the process held 88 MB
 * instead of 106 to 109 MB (docs/performance.md, change 24). Type checking is `npm run
 * typecheck`'s job; esbuild only strips the types.
 */
import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { build } from "esbuild";

const OUT = "dist";

// Left as packages in node_modules: these read files of their own next to their code (PGlite
// its WebAssembly module and Postgres's share/ files, swagger its package.json, swagger-ui its
// static assets), and pg-native is an optional addon pg asks for only when told to.
const EXTERNAL = [
  "@electric-sql/pglite",
  "@electric-sql/pglite/*",
  "@fastify/swagger",
  "@fastify/swagger-ui",
  "pg-native",
];

// What an earlier build left: the PGlite template stays (it depends only on the PGlite
// release, and takes seconds to write), compiled code goes.
for (const entry of await readdir(OUT, { withFileTypes: true }).catch(() => [])) {
  if (!entry.name.startsWith("pglite-template-")) {
    await rm(join(OUT, entry.name), { recursive: true, force: true });
  }
}

await build({
  entryPoints: ["src/server.ts", "src/db/migrate-cli.ts", "src/db/pglite-template-cli.ts"],
  outbase: "src",
  outdir: OUT,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  external: EXTERNAL,
  // The CommonJS packages inside call require(); an ES module has none of its own.
  banner: {
    js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);",
  },
  sourcemap: true,
  logLevel: "warning",
});
