import { existsSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { Redis } from "ioredis";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import {
  answers,
  findOrStartPostgres,
  findOrStartRedis,
  freePort,
  type StartedServer,
} from "./test-servers.js";

/**
 * How test/setup/servers.ts picks its servers. The machine's own Postgres and Redis are left
 * alone: "nothing answers" is a port nothing listens on, and "a server answers" is a listener
 * this file holds, passed in place of 5432 or 6379.
 */

const started: StartedServer[] = [];
const listeners: Server[] = [];
afterEach(async () => {
  for (const server of started.splice(0)) await server.stop();
  for (const listener of listeners.splice(0)) {
    await new Promise((resolve) => listener.close(resolve));
  }
});

async function listening(): Promise<number> {
  const listener = createServer((socket) => socket.destroy());
  listeners.push(listener);
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  return (listener.address() as { port: number }).port;
}

async function keep(server: Promise<StartedServer>): Promise<StartedServer> {
  const value = await server;
  started.push(value);
  return value;
}

describe("Postgres", () => {
  it("uses TEST_DATABASE_URL as given, probing nothing", async () => {
    const server = await keep(
      findOrStartPostgres({ TEST_DATABASE_URL: "postgres://someone@db.invalid/x" }, 1),
    );
    expect(server).toMatchObject({ url: "postgres://someone@db.invalid/x", source: "env" });
  });

  it("uses the server that answers on the local port", async () => {
    const port = await listening();
    const server = await keep(findOrStartPostgres({}, port));
    expect(server).toMatchObject({
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      source: "local",
    });
  });

  it("starts an embedded Postgres when nothing answers, and removes it on stop", async () => {
    const closed = await freePort();
    // Stopping twice is harmless: afterEach stops it again should an expectation fail first.
    const server = await keep(findOrStartPostgres({}, closed));
    expect(server.source).toBe("embedded");
    const url = new URL(server.url);
    expect(url.hostname).toBe("127.0.0.1");
    expect(url.port).not.toBe(String(closed));

    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    const { rows } = await client.query(
      "select current_setting('server_version_num')::int / 10000 as major, current_setting('server_encoding') as encoding, current_setting('data_directory') as dir, lower('ÄÖ') as lowered",
    );
    await client.end();
    expect(rows[0]).toMatchObject({ major: 18, encoding: "UTF8", lowered: "äö" });
    expect(existsSync(rows[0].dir)).toBe(true);

    await server.stop();
    expect(await answers(Number(url.port))).toBe(false);
    expect(existsSync(rows[0].dir)).toBe(false);
  });

  it("starts an embedded Postgres when TEST_POSTGRES=embedded, though a server answers and TEST_DATABASE_URL is set", async () => {
    const port = await listening();
    const server = await keep(
      findOrStartPostgres(
        { TEST_POSTGRES: "embedded", TEST_DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/x` },
        port,
      ),
    );
    expect(server.source).toBe("embedded");
    expect(new URL(server.url).port).not.toBe(String(port));
  });

  it("refuses a TEST_POSTGRES it does not know", async () => {
    await expect(findOrStartPostgres({ TEST_POSTGRES: "machine" }, 1)).rejects.toThrow(
      'TEST_POSTGRES must be "embedded" or "auto" (or unset), not "machine"',
    );
  });
});

describe("Redis", () => {
  it("uses TEST_REDIS_URL as given, and the server that answers on the local port", async () => {
    expect(await keep(findOrStartRedis({ TEST_REDIS_URL: "redis://cache:1/2" }, 1))).toMatchObject({
      url: "redis://cache:1/2",
      source: "env",
    });
    const port = await listening();
    expect(await keep(findOrStartRedis({}, port))).toMatchObject({
      url: `redis://127.0.0.1:${port}/5`,
      source: "local",
    });
  });

  it("starts a redis-server when nothing answers, and ends it on stop", async () => {
    const server = await keep(findOrStartRedis({}, await freePort()));
    expect(server.source).toBe("embedded");
    const client = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 0 });
    await client.connect();
    await client.set("key", "value");
    expect(await client.get("key")).toBe("value");
    expect(await client.config("GET", "bind")).toEqual(["bind", "127.0.0.1"]);
    client.disconnect();
    await server.stop();
    expect(await answers(Number(new URL(server.url).port))).toBe(false);
  });

  it("starts one when TEST_REDIS=embedded, though a server answers", async () => {
    const port = await listening();
    const server = await keep(findOrStartRedis({ TEST_REDIS: "embedded" }, port));
    expect(server.source).toBe("embedded");
    expect(new URL(server.url).port).not.toBe(String(port));
  });

  it("says what to install when there is no redis-server to start", async () => {
    await expect(
      findOrStartRedis({ TEST_REDIS: "embedded", TEST_REDIS_SERVER: "/nonexistent/redis-server" }),
    ).rejects.toThrow(/\/nonexistent\/redis-server, which would start one, is not installed/);
  });
});
