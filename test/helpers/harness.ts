import { Writable } from "node:stream";
import type { FastifyBaseLogger, FastifyInstance } from "fastify";
import { type Dispatcher, request } from "undici";
import { buildApp } from "../../src/app.js";
import { type Config, loadConfig } from "../../src/config/config.js";
import { GitHubClient } from "../../src/github/client.js";
import { createGitHubDispatcher } from "../../src/github/dispatcher.js";
import { createLogger } from "../../src/logger.js";
import { FakeGitHub } from "../fake-github/server.js";
import { type Backend, openTestDatabase, type TestDatabase } from "./databases.js";

export interface Harness {
  /** Base URL of the running app, http://127.0.0.1:<port>. */
  url: string;
  fake: FakeGitHub;
  app: FastifyInstance;
  test: TestDatabase;
  config: Config;
  /** Every log line the app wrote, as raw JSON text. */
  logs: string[];
  get(path: string): Promise<{
    status: number;
    headers: Dispatcher.ResponseData["headers"];
    body: any;
    text: string;
  }>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  backend?: Backend;
  env?: Record<string, string>;
  fake?: FakeGitHub;
}

/**
 * The whole service over real HTTP on 127.0.0.1: the app as server.ts builds it, a fake GitHub
 * server, and a real database. Logs are captured so tests can read what the app wrote.
 */
export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const fake = options.fake ?? (await FakeGitHub.start());
  const test = await openTestDatabase(options.backend ?? "pglite");
  const config = loadConfig({
    GITHUB_API_URL: fake.url,
    GITHUB_TIMEOUT_MS: "2000",
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
  const dispatcher = createGitHubDispatcher({
    timeoutMs: config.githubTimeoutMs,
    retryBaseDelayMs: 20,
  });
  const github = new GitHubClient({
    baseUrl: config.githubApiUrl,
    token: config.githubToken,
    timeoutMs: config.githubTimeoutMs,
    dispatcher,
  });
  const app = await buildApp({
    config,
    database: test.database,
    github,
    logger: createLogger(config.logLevel, sink) as FastifyBaseLogger,
  });
  const url = await app.listen({ host: "127.0.0.1", port: 0 });
  return {
    url,
    fake,
    app,
    test,
    config,
    logs,
    async get(path) {
      const response = await request(`${url}${path}`);
      const text = await response.body.text();
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      return { status: response.statusCode, headers: response.headers, body, text };
    },
    async close() {
      await app.close();
      await dispatcher.close();
      await test.dispose();
      if (!options.fake) await fake.close();
    },
  };
}
