import { type ChildProcess, spawn } from "node:child_process";
import { connect, createServer } from "node:net";
import { fileURLToPath } from "node:url";

const PROJECT_ROOT = fileURLToPath(new URL("../..", import.meta.url));

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  /** Everything the process wrote to stdout and stderr so far, for failure messages. */
  output(): string;
  /** Resolves with the exit code and signal once the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * A free port on 127.0.0.1: PORT=0 would work for the server, but the server does not report
 * which port it got, so the test picks one by listening on 0 and releasing it.
 */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", resolve);
  });
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no TCP address");
  return address.port;
}

/**
 * Starts src/server.ts as its own Node process, the way a container starts dist/server.js,
 * through tsx so the test always runs the current source rather than a possibly stale build.
 */
export function spawnServer(env: Record<string, string>): ServerProcess {
  const inherited = { ...process.env };
  // The suite's own settings must not leak into the server under test.
  for (const name of ["DATABASE_URL", "GITHUB_TOKEN", "PORT", "HOST", "DATA_DIR"]) {
    delete inherited[name];
  }
  const child = spawn(process.execPath, ["--import", "tsx", "src/server.ts"], {
    cwd: PROJECT_ROOT,
    env: { ...inherited, HOST: "127.0.0.1", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    output += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
  return { child, url: `http://127.0.0.1:${env.PORT}`, output: () => output, exited };
}

/** Polls `url` until it answers 200, failing after `timeoutMs` or when the process exits. */
export async function waitUntilAnswering(
  server: ServerProcess,
  path: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void server.exited.then(() => {
    exited = true;
  });
  while (Date.now() < deadline && !exited) {
    try {
      const response = await fetch(`${server.url}${path}`, { signal: AbortSignal.timeout(1_000) });
      await response.arrayBuffer();
      if (response.status === 200) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`server did not answer ${path} in ${timeoutMs} ms:\n${server.output()}`);
}

/** Resolves with the error code of a fresh TCP connection, or "connected" if one was accepted. */
export function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve("connected");
    });
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}
