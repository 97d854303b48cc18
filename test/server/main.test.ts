import { existsSync, statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createRequire } from "node:module";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Writable } from "node:stream";
import pg from "pg";
import { afterEach, describe, expect, it, vi } from "vitest";
import { loadConfig } from "../../src/config/config.js";
import { main, openService, type Service } from "../../src/main.js";
import { FakeGitHub } from "../fake-github/server.js";
import { createPostgresDatabase, POSTGRES_ADMIN_URL } from "../helpers/databases.js";
import { tryConnect } from "../helpers/server-process.js";

/**
 * src/main.ts in this process, over real HTTP, on a real PGlite or Postgres and Redis: what
 * src/server.ts runs. The process around it (signals, the exit code) is
 * test/server/shutdown.test.ts's and test/server/processes.test.ts's.
 */

// app.ts's keep-alive timeout: an idle connection left alone is closed only after this long.
const KEEP_ALIVE_TIMEOUT_MS = 5_000;
// The Redis test/setup/servers.ts found or started, on its database 0 (the cache tests flush 5).
const REDIS_URL = (() => {
  const url = new URL(process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379");
  url.pathname = "";
  return url.toString();
})();
// Each GitHub answer takes this long, time enough to start draining in the middle of one.
const GITHUB_LATENCY_MS = 1_500;
// The largest file the API serves (Swagger UI's bundle), and how many of it one client asks
// for at once.
const BIG_FILE = "/docs/static/swagger-ui-bundle.js";
const BIG_FILE_BYTES = statSync(
  join(
    dirname(createRequire(import.meta.url).resolve("@fastify/swagger-ui")),
    "static/swagger-ui-bundle.js",
  ),
).size;
const PIPELINED = 8;

/** A pino destination that keeps every line, parsed. */
function logSink() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      for (const line of String(chunk).split("\n")) if (line) lines.push(JSON.parse(line));
      callback();
    },
  });
  return { lines, destination, messages: () => lines.map((line) => line.msg) };
}

/** A port that refuses connections: one a listener held, then gave back. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Ends every session on the database at `url` but the one asking, as an administrator would. */
async function terminateBackends(url: string): Promise<void> {
  const database = new URL(url).pathname.slice(1);
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await admin.connect();
  try {
    const { rows } = await admin.query(
      "select pg_terminate_backend(pid) as ended from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()",
      [database],
    );
    expect(rows.length, "the pool holds an idle connection").toBeGreaterThan(0);
  } finally {
    await admin.end();
  }
}

const cleanups: (() => Promise<unknown>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
  process.exitCode = undefined;
});

async function startFake(latencyMs = 0): Promise<FakeGitHub> {
  const fake = await FakeGitHub.start({ latencyMs });
  cleanups.push(() => fake.close());
  fake.addUser({ login: "octocat", id: 583231, repoCount: 3 });
  return fake;
}

function baseEnv(fake: FakeGitHub): Record<string, string> {
  return {
    GITHUB_API_URL: fake.url,
    GITHUB_TIMEOUT_MS: "8000",
    DATA_DIR: "memory://",
    HOST: "127.0.0.1",
    PORT: "0",
    LOG_LEVEL: "info",
  };
}

describe("main", () => {
  it("writes a bad configuration to stderr and ends with exit code 1, having opened nothing", async () => {
    const root = await mkdtemp(join(tmpdir(), "main-test-"));
    cleanups.push(() => rm(root, { recursive: true, force: true }));
    const dataDir = join(root, "data");
    let stderr = "";

    const service = await main(
      { PORT: "not-a-port", DATA_DIR: dataDir },
      { stderr: { write: (text: string) => (stderr += text) } },
    );

    expect(service).toBeUndefined();
    expect(stderr).toBe(
      'Invalid configuration: PORT must be a whole number between 0 and 65535, got "not-a-port"\n',
    );
    expect(process.exitCode).toBe(1);
    // PGlite would have created its data directory.
    expect(existsSync(dataDir)).toBe(false);
  });

  it("lets through an error that is not about the configuration", async () => {
    const unreadable = new Proxy<Record<string, string>>(
      {},
      {
        get() {
          throw new TypeError("the environment cannot be read");
        },
      },
    );
    await expect(main(unreadable)).rejects.toThrow("the environment cannot be read");
    expect(process.exitCode).toBeUndefined();
  });

  it("starts on Postgres with Redis, says so once ready, and on shutdown leaves no signal handler behind", async () => {
    const fake = await startFake();
    const created = await createPostgresDatabase();
    cleanups.push(() => created.drop());
    const logs = logSink();
    const sigtermListeners = process.listenerCount("SIGTERM");

    const service = (await main(
      { ...baseEnv(fake), DATABASE_URL: created.url, REDIS_URL },
      { logDestination: logs.destination },
    )) as Service;
    let stopped = false;
    cleanups.push(async () => {
      if (!stopped) await service.shutdown();
    });

    // close-with-grace listens for the signals from here on.
    expect(process.listenerCount("SIGTERM")).toBe(sigtermListeners + 1);
    const address = service.app.listeningOrigin;
    const ready = await fetch(`${address}/ready`);
    expect(ready.status).toBe(200);
    const repositories = await fetch(`${address}/repositories?username=octocat`);
    expect(((await repositories.json()) as any).repositories).toHaveLength(3);
    expect(logs.lines.find((line) => line.msg === "ready")).toMatchObject({
      database: "postgres",
      github: fake.url,
      authenticated: false,
      cache: "redis",
    });

    // An idle connection of the pool cut by the server is reported, and the next query opens
    // another.
    await terminateBackends(created.url);
    await vi.waitFor(() => expect(logs.messages()).toContain("database connection lost"), {
      timeout: 10_000,
      interval: 20,
    });
    expect((await fetch(`${address}/ready`)).status).toBe(200);

    await service.shutdown({ signal: "SIGTERM" });
    stopped = true;
    expect(process.listenerCount("SIGTERM")).toBe(sigtermListeners);
    expect(await tryConnect(Number(new URL(address).port))).toBe("ECONNREFUSED");
    expect(logs.lines.find((line) => line.msg === "shutting down")).toMatchObject({
      signal: "SIGTERM",
    });
  });

  it("starts without Redis when Redis does not answer, and says so", async () => {
    const fake = await startFake();
    const logs = logSink();
    const service = (await main(
      { ...baseEnv(fake), REDIS_URL: `redis://127.0.0.1:${await closedPort()}` },
      { logDestination: logs.destination },
    )) as Service;
    cleanups.push(() => service.shutdown());

    expect((await fetch(`${service.app.listeningOrigin}/ready`)).status).toBe(200);
    expect(logs.lines.find((line) => line.msg === "ready")).toMatchObject({
      database: "pglite",
      cache: "redis (unreachable for now)",
    });
  });
});

describe("draining", () => {
  async function startService(fake: FakeGitHub, logs = logSink()) {
    const service = await openService(loadConfig(baseEnv(fake)), {
      logDestination: logs.destination,
    });
    let stopped: Promise<void> | undefined;
    const shutdown = (cause?: { signal?: string; err?: unknown }) => {
      stopped ??= service.shutdown(cause);
      return stopped;
    };
    cleanups.push(() => shutdown());
    const url = await service.listen();
    return { service, url, port: Number(new URL(url).port), shutdown, logs };
  }

  it("finishes the request in flight, telling its client to close, and refuses new connections", async () => {
    const fake = await startFake(GITHUB_LATENCY_MS);
    const { url, port, shutdown, logs } = await startService(fake);

    let slowAnswered = false;
    const slow = fetch(`${url}/repositories?username=octocat`).then(async (response) => {
      const body: any = await response.json();
      slowAnswered = true;
      return { status: response.status, connection: response.headers.get("connection"), body };
    });
    await vi.waitFor(
      () => expect(fake.requests.some((r) => r.path.startsWith("/users/octocat"))).toBe(true),
      { timeout: 10_000, interval: 20 },
    );

    const drained = shutdown({ signal: "SIGTERM" });
    await vi.waitFor(async () => expect(await tryConnect(port)).toBe("ECONNREFUSED"), {
      timeout: 5_000,
      interval: 20,
    });
    const refusedWhileBusy = !slowAnswered;
    const answer = await slow;
    await drained;

    expect(refusedWhileBusy, "new connections are refused while the old request runs").toBe(true);
    expect(answer.status).toBe(200);
    // Told to close, the client does not send another request on a connection about to end.
    expect(answer.connection).toBe("close");
    expect(answer.body.repositories).toHaveLength(3);
    expect(logs.lines.find((line) => line.msg === "shutting down")).toMatchObject({
      level: 30,
      signal: "SIGTERM",
    });
  });

  it("closes a keep-alive connection once the answers going out when draining began are out", async () => {
    const fake = await startFake();
    const { service, port, shutdown } = await startService(fake);
    const responses: ServerResponse[] = [];
    let serverSide: Socket | undefined;
    service.app.server.on("request", (request: IncomingMessage, response: ServerResponse) => {
      responses.push(response);
      serverSide = request.socket;
    });

    // Eight 1.7 MB files asked for at once on one keep-alive connection (pipelined), and the
    // client reads nothing yet: 13 MB, far more than the sockets' buffers take (about 4 MB
    // here), so some answers are still going out, their heads already written.
    const socket = connect({ host: "127.0.0.1", port });
    cleanups.push(async () => socket.destroy());
    socket.pause();
    const request = `GET ${BIG_FILE} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\n\r\n`;
    socket.write(request.repeat(PIPELINED));
    await vi.waitFor(
      () => {
        expect(responses).toHaveLength(PIPELINED);
        expect(serverSide?.writableNeedDrain, "the sockets' buffers are full").toBe(true);
      },
      { timeout: 10_000, interval: 20 },
    );
    const going = responses.filter((response) => !response.writableFinished);
    expect(going.length, "answers still going out when draining begins").toBeGreaterThan(0);
    // Their heads are written, so draining cannot tell them to close the connection.
    expect(going.every((response) => response.headersSent)).toBe(true);

    let received = 0;
    const ended = new Promise<void>((resolve) => socket.once("end", resolve));
    socket.on("data", (chunk: Buffer) => {
      received += chunk.length;
    });
    const drained = shutdown({ signal: "SIGTERM" });
    const resumedAt = Date.now();
    socket.resume();
    await drained;

    // Without the reaper the connection, idle once its last answer is out, would stay open
    // until the keep-alive timeout closed it, and draining would wait for that.
    expect(Date.now() - resumedAt).toBeLessThan(KEEP_ALIVE_TIMEOUT_MS);
    await ended;
    expect(responses.every((response) => response.writableFinished)).toBe(true);
    expect(received).toBeGreaterThan(PIPELINED * BIG_FILE_BYTES);
  });

  it("logs the error that caused the shutdown", async () => {
    const fake = await startFake();
    const logs = logSink();
    const { shutdown } = await startService(fake, logs);

    await shutdown({ err: new Error("nothing caught this") });

    expect(logs.lines.find((line) => line.msg === "shutting down after an error")).toMatchObject({
      level: 50,
      err: { message: "nothing caught this" },
    });
  });
});
