// Writes the OpenAPI document exactly as the service serves it at /openapi.json, from an app
// built as src/main.ts builds it (on an in-memory PGlite, with GitHub never asked), so that
// `npm run lint:openapi` checks what callers and their tools get. Usage:
//   tsx scripts/openapi-document.ts [out-file]   (default test-results/openapi.json)
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { buildApp } from "../src/app.js";
import { loadConfig } from "../src/config/config.js";
import { openDatabase } from "../src/db/database.js";
import { openGitHub } from "../src/github/open.js";

const out = process.argv[2] ?? "test-results/openapi.json";
// Nothing listens there and nothing asks it: building the document calls no GitHub endpoint.
const config = loadConfig({ GITHUB_API_URL: "http://127.0.0.1:9", LOG_LEVEL: "silent" });
const database = openDatabase({ dataDir: "memory://" });
const github = openGitHub({ config });
const app = await buildApp({ config, database, github: github.client });
try {
  const response = await app.inject({
    method: "GET",
    url: "/openapi.json",
    headers: { host: "127.0.0.1:8000" },
  });
  if (response.statusCode !== 200) {
    throw new Error(`/openapi.json answered ${response.statusCode}: ${response.body}`);
  }
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(response.json(), null, 2)}\n`);
  process.stdout.write(`wrote ${out}\n`);
} finally {
  await app.close();
  await github.close();
  await database.close();
}
