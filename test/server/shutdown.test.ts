import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FakeGitHub } from "../fake-github/server.js";
import { BACKENDS, type Backend, createPostgresDatabase } from "../helpers/databases.js";
import { type ServerProcess, startServerProcess, tryConnect } from "../helpers/server-process.js";

// Each GitHub answer takes this long, so a listing stays in flight for at least that long:
// time enough to send the signal in the middle of it.
const GITHUB_LATENCY_MS = 1_500;
// The server's own grace period; the process must be gone by then.
const SHUTDOWN_LIMIT_MS = 10_000;

async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function until(condition: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// SIGTERM is what a container runtime sends, on both databases; SIGINT (Ctrl-C) once.
const CASES: { backend: Backend; signal: NodeJS.Signals }[] = [
  ...BACKENDS.map((backend) => ({ backend, signal: "SIGTERM" as const })),
  { backend: "pglite", signal: "SIGINT" },
];

describe.each(CASES)("the server process on $backend, on $signal", ({ backend, signal }) => {
  const cleanups: (() => Promise<unknown>)[] = [];

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
  });

  async function startServer(): Promise<{ server: ServerProcess; fake: FakeGitHub }> {
    const fake = await FakeGitHub.start({ latencyMs: GITHUB_LATENCY_MS });
    cleanups.push(() => fake.close());
    fake.addUser({ login: "octocat", id: 583231, repoCount: 3 });

    const env: Record<string, string> = { GITHUB_API_URL: fake.url, GITHUB_TIMEOUT_MS: "8000" };
    if (backend === "postgres") {
      const created = await createPostgresDatabase();
      cleanups.push(() => created.drop());
      env.DATABASE_URL = created.url;
    } else {
      const dataDir = await mkdtemp(join(tmpdir(), "shutdown-test-"));
      cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
      env.DATA_DIR = dataDir;
    }
    // From source, so this test never meets a stale build; the smoke script runs dist/.
    const server = await startServerProcess(env, { from: "source" });
    cleanups.push(() => server.stop());
    return { server, fake };
  }

  it("finishes the request in flight, refuses new connections, and exits 0 in time", async () => {
    const { server, fake } = await startServer();
    const output = () => server.output.join("\n");

    let slowAnswered = false;
    const slow = fetch(`${server.url}/repositories?username=octocat`).then(async (response) => {
      const body: any = await response.json();
      slowAnswered = true;
      return { status: response.status, connection: response.headers.get("connection"), body };
    });
    // The signal goes out only once the request has reached GitHub, so it is really in flight.
    await until(
      () => fake.requests.some((request) => request.path.startsWith("/users/octocat")),
      10_000,
      "the listing's first GitHub request",
    );

    const signalledAt = Date.now();
    server.signal(signal);

    // A connection that lands in the listener's queue just as the listener closes is reset
    // rather than refused (seen once on Node 26): it shows neither outcome, so it is tried again.
    const undecided = new Set(["connected", "ECONNRESET"]);
    let refusal = "connected";
    while (undecided.has(refusal) && Date.now() - signalledAt < 5_000) {
      refusal = await tryConnect(server.port);
      if (undecided.has(refusal)) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const refusedWhileBusy = !slowAnswered;

    const answer = await within(slow, SHUTDOWN_LIMIT_MS, "the request in flight");
    const exit = await within(server.exited, SHUTDOWN_LIMIT_MS + 5_000, "the process exit");
    const shutdownMs = Date.now() - signalledAt;

    expect(refusal, output()).toBe("ECONNREFUSED");
    expect(refusedWhileBusy, "new connections are refused while the old request runs").toBe(true);
    expect(answer.status, output()).toBe(200);
    // Told to close, the client does not send another request on a connection about to end.
    expect(answer.connection).toBe("close");
    expect(answer.body.username).toBe("octocat");
    expect(answer.body.repositories).toHaveLength(3);
    expect(exit, output()).toEqual({ code: 0, signal: null });
    expect(shutdownMs).toBeLessThan(SHUTDOWN_LIMIT_MS);
    expect(output()).toContain(`"signal":"${signal}","msg":"shutting down"`);
  }, 90_000);
});
