import type { ServerResponse } from "node:http";
import closeWithGrace from "close-with-grace";
import type { FastifyInstance } from "fastify";
import type { DestinationStream, Logger } from "pino";
import { buildApp } from "./app.js";
import { type Config, ConfigError, loadConfig } from "./config/config.js";
import { openDatabase } from "./db/database.js";
import { openGitHub } from "./github/open.js";
import { createLogger } from "./logger.js";
import { openRedis, redisReady } from "./redis.js";

/**
 * What the process does (src/server.ts only calls `main()`), kept in a module of its own so
 * that tests run it in-process and coverage counts it: see docs/testing.md, "Coverage".
 */

// In-flight requests get this long to finish after SIGTERM or SIGINT.
export const SHUTDOWN_GRACE_MS = 10_000;
// How often, while draining, connections whose last answer is out are looked for and closed.
export const IDLE_REAP_INTERVAL_MS = 100;

/** Why the service stops: close-with-grace's signal, or the error nothing else caught. */
export interface ShutdownCause {
  signal?: string | undefined;
  err?: unknown;
}

export interface Service {
  app: FastifyInstance;
  logger: Logger;
  /** Listens where the configuration says and logs "ready"; resolves with the address. */
  listen(): Promise<string>;
  /**
   * Drains and closes: stops accepting connections, lets the requests in flight finish
   * (their answers tell the client to close the connection), closes each connection as its
   * last answer goes out, then closes the database, GitHub's pool and Redis.
   */
  shutdown(cause?: ShutdownCause): Promise<void>;
}

/** Opens what the configuration names (migrating the database) and builds the app around it. */
export async function openService(
  config: Config,
  options: { logDestination?: DestinationStream } = {},
): Promise<Service> {
  const logger = createLogger({
    level: config.logLevel,
    secrets: [config.githubToken],
    destination: options.logDestination,
  });
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

  return {
    app,
    logger,
    async listen() {
      const address = await app.listen({ port: config.port, host: config.host });
      logger.info(
        {
          database: database.kind,
          github: config.githubApiUrl,
          authenticated: config.githubToken !== undefined,
          cache,
        },
        "ready",
      );
      return address;
    },
    async shutdown({ signal, err }: ShutdownCause = {}) {
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
    },
  };
}

export interface MainOptions {
  /** Where a bad configuration is reported; the process's stderr by default. */
  stderr?: { write(text: string): unknown };
  /** Where log lines go; stdout by default. */
  logDestination?: DestinationStream;
}

/**
 * The process: reads the configuration from `env`, opens everything, drains on SIGTERM or
 * SIGINT through close-with-grace (which then exits, within SHUTDOWN_GRACE_MS), and listens.
 * A bad configuration is written to stderr and ends it with exit code 1, having opened
 * nothing; it resolves with no service then. The service it resolves with is already under
 * close-with-grace; its `shutdown` takes it out from there first, for a caller that stops it
 * itself.
 */
export async function main(
  env: Record<string, string | undefined> = process.env,
  options: MainOptions = {},
): Promise<Service | undefined> {
  let config: Config;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    (options.stderr ?? process.stderr).write(`${error.message}\n`);
    // Nothing is open yet, so the process ends on its own, with this code.
    process.exitCode = 1;
    return undefined;
  }
  const service = await openService(config, options);
  const grace = closeWithGrace(
    { delay: SHUTDOWN_GRACE_MS, logger: service.logger },
    service.shutdown,
  );
  await service.listen();
  return {
    ...service,
    shutdown(cause) {
      grace.uninstall();
      return service.shutdown(cause);
    },
  };
}
