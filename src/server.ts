import type { ServerResponse } from "node:http";
import closeWithGrace from "close-with-grace";
import { buildApp } from "./app.js";
import { ConfigError, loadConfig } from "./config/config.js";
import { openDatabase } from "./db/database.js";
import { openGitHub } from "./github/open.js";
import { createLogger } from "./logger.js";
import { openRedis, redisReady } from "./redis.js";

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
  const database = openDatabase({
    url: config.databaseUrl,
    dataDir: config.dataDir,
    onPoolError: (error) => logger.warn({ reason: error.message }, "database connection lost"),
  });
  await database.migrate();
  const redis = config.redisUrl === undefined ? undefined : openRedis(config.redisUrl);
  const cache =
    redis === undefined
      ? "memory"
      : (await redisReady(redis))
        ? "redis"
        : "redis (unreachable for now)";
  const github = openGitHub({ config, redis, log: logger });
  const app = await buildApp({ config, database, github: github.client, redis, logger });

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
    await Promise.allSettled([database.close(), github.close(), redis?.quit()]);
  });

  await app.listen({ port: config.port, host: config.host });
  logger.info(
    {
      database: database.kind,
      github: config.githubApiUrl,
      authenticated: config.githubToken !== undefined,
      cache,
    },
    "ready",
  );
}

await main();
