import type { TestProject } from "vitest/node";
import {
  findOrStartPostgres,
  findOrStartRedis,
  type StartedServer,
} from "../helpers/test-servers.js";

/**
 * Vitest's globalSetup: runs once in the main process before any test file, and its teardown
 * after the last. It finds or starts Postgres and Redis (test/helpers/test-servers.ts) and puts
 * their URLs in TEST_DATABASE_URL and TEST_REDIS_URL. Vitest builds each worker's environment
 * from `process.env` when it starts the workers, after this has run, so every test file and
 * every process a test spawns sees them; test/helpers/databases.ts reads TEST_DATABASE_URL as
 * it always did, and so do the scripts in bench/ that import it.
 */
export default async function setup(_project: TestProject): Promise<() => Promise<void>> {
  const started: StartedServer[] = [];
  const stopAll = async () => {
    for (const server of started.reverse()) await server.stop();
  };
  try {
    const postgres = await findOrStartPostgres();
    started.push(postgres);
    process.env.TEST_DATABASE_URL = postgres.url;
    const redis = await findOrStartRedis();
    started.push(redis);
    process.env.TEST_REDIS_URL = redis.url;
    console.log(
      `test servers: Postgres ${describe(postgres)}, Redis ${describe(redis)} (docs/testing.md, "Servers the tests need")`,
    );
  } catch (error) {
    await stopAll();
    throw error;
  }
  return stopAll;
}

function describe(server: StartedServer): string {
  const url = new URL(server.url);
  url.password = url.password ? "***" : "";
  return `${server.source} at ${url.host}${url.pathname}`;
}
