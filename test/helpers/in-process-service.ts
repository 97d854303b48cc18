import { Writable } from "node:stream";
import type { FastifyBaseLogger, FastifyInstance } from "fastify";
import { type Dispatcher, request } from "undici";
import { buildApp } from "../../src/app.js";
import { loadConfig } from "../../src/config/config.js";
import type { Database } from "../../src/db/database.js";
import { openGitHub } from "../../src/github/open.js";
import { createLogger } from "../../src/logger.js";
import { openRedis, redisReady } from "../../src/redis.js";

export interface Answer {
  status: number;
  headers: Dispatcher.ResponseData["headers"];
  body: any;
  text: string;
  elapsedMs: number;
}

export interface InProcessService {
  url: string;
  app: FastifyInstance;
  /** Every log line the app wrote, as raw JSON text. */
  logs: string[];
  /** GET with a hard client-side bound, so a hanging service fails the test instead of stalling it. */
  get(path: string, timeoutMs?: number): Promise<Answer>;
  close(): Promise<void>;
}

/**
 * The app wired as server.ts wires it (with REDIS_URL in `env`, around Redis too), but around a database the test opened itself (for
 * instance one reached through a TcpProxy), listening on 127.0.0.1 with its logs captured.
 */
export async function startInProcessService(options: {
  database: Database;
  githubUrl: string;
  env?: Record<string, string>;
}): Promise<InProcessService> {
  const config = loadConfig({
    GITHUB_API_URL: options.githubUrl,
    GITHUB_TIMEOUT_MS: "1000",
    LOG_LEVEL: "info",
    ...options.env,
  });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      logs.push(String(chunk));
      callback();
    },
  });
  const logger = createLogger({
    level: config.logLevel,
    secrets: [config.githubToken],
    destination: sink,
  }) as FastifyBaseLogger;
  const redis = config.redisUrl === undefined ? undefined : openRedis(config.redisUrl);
  if (redis) await redisReady(redis);
  const github = openGitHub({ config, redis, log: logger, retry: { retryBaseDelayMs: 20 } });
  const app = await buildApp({
    config,
    database: options.database,
    github: github.client,
    redis,
    logger,
  });
  const url = await app.listen({ host: "127.0.0.1", port: 0 });
  return {
    url,
    app,
    logs,
    async get(path, timeoutMs = 10_000) {
      const started = performance.now();
      const response = await request(`${url}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
      const text = await response.body.text();
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      return {
        status: response.statusCode,
        headers: response.headers,
        body,
        text,
        elapsedMs: performance.now() - started,
      };
    },
    async close() {
      await app.close();
      await github.close();
      redis?.disconnect();
    },
  };
}
