import type { ServerResponse } from "node:http";
import { setFlagsFromString } from "node:v8";
import closeWithGrace from "close-with-grace";
import { buildApp } from "./app.js";
import { ConfigError, loadConfig } from "./config/config.js";
import { openDatabase } from "./db/database.js";
import { GitHubClient } from "./github/client.js";
import { createGitHubDispatcher } from "./github/dispatcher.js";
import { createLogger } from "./logger.js";

// After each full collection V8 lets the old generation grow to up to four times what survived
// when the heap limit is large (4 GB on a machine with 16 GB or more). Under the bench's load
// the garbage of listings and their JSON then filled 225 MB of heap around a live set under
// 50 MB, and the process peaked at 250 to 320 MB. At 1.3 times it peaked at 174 to 186 MB, for
// more frequent collections: in alternating runs, repeated details (B3) within 5 to 7%, cold
// listings (B1) unchanged, and up to 8 to 15% fewer first-read local listings. The heap
// keeps its ceiling, so a larger live set still fits. V8 reads this flag at every collection,
// so setting it here, before any load, takes effect.
setFlagsFromString("--heap-growing-percent=30");

// In-flight requests get this long to finish after SIGTERM or SIGINT.
const SHUTDOWN_GRACE_MS = 10_000;
// How often, while draining, connections whose last answer is out are looked for and closed.
const IDLE_REAP_INTERVAL_MS = 100;

async function main() {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger({ level: config.logLevel, secrets: [config.githubToken] });
  if (config.databaseUrl === undefined) {
    // The embedded database is Postgres compiled to WebAssembly, 9 MB of it. Besides its
    // baseline (Liftoff) code, V8 compiles the functions that turn hot again with TurboFan, in
    // background threads whose memory stays with the process: in the bench the service peaked
    // at 299 to 301 MB with that tier and at 249 to 259 MB without it, and B1 to B4 and saving
    // 1,000 repositories took as long either way, since the service's queries are small. Set
    // before PGlite compiles its module, so it applies to all of it.
    setFlagsFromString("--liftoff-only");
  }
  const database = openDatabase({
    url: config.databaseUrl,
    dataDir: config.dataDir,
    onPoolError: (error) => logger.warn({ reason: error.message }, "database connection lost"),
  });
  await database.migrate();
  const dispatcher = createGitHubDispatcher({ timeoutMs: config.githubTimeoutMs });
  const github = new GitHubClient({
    baseUrl: config.githubApiUrl,
    token: config.githubToken,
    timeoutMs: config.githubTimeoutMs,
    dispatcher,
  });
  const app = await buildApp({ config, database, github, logger });

  // server.close() only ends connections that are idle when it is called: a keep-alive
  // connection whose request was still running would stay open after its answer until the
  // keep-alive timeout, far past the grace period. So answers still to come tell the client to
  // close, and connections that turn idle while draining are closed as they do.
  const unanswered = new Set<ServerResponse>();
  app.server.on("request", (_request, response: ServerResponse) => {
    unanswered.add(response);
    response.once("close", () => unanswered.delete(response));
  });

  closeWithGrace({ delay: SHUTDOWN_GRACE_MS, logger }, async ({ signal, err }) => {
    if (err) logger.error({ err }, "shutting down after an error");
    else logger.info({ signal }, "shutting down");
    for (const response of unanswered) {
      if (!response.headersSent) response.setHeader("connection", "close");
    }
    const reaper = setInterval(() => app.server.closeIdleConnections(), IDLE_REAP_INTERVAL_MS);
    try {
      await app.close();
    } finally {
      clearInterval(reaper);
    }
    await Promise.allSettled([database.close(), dispatcher.close()]);
  });

  await app.listen({ port: config.port, host: config.host });
  logger.info(
    {
      database: database.kind,
      github: config.githubApiUrl,
      authenticated: config.githubToken !== undefined,
    },
    "ready",
  );
}

await main();
