import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { readdirSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { PROJECT_ROOT } from "../../src/project-root.js";

const ENTRY = join(PROJECT_ROOT, "dist", "server.js");
const START_BOUND_MS = 45_000;
const STOP_BOUND_MS = 12_000;

function newestModification(directory: string): number {
  let newest = 0;
  for (const entry of readdirSync(directory, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) {
      newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
    }
  }
  return newest;
}

/** Builds dist/ when it is missing or older than a source file, so a test never runs stale code. */
export function ensureBuilt(): void {
  let built = 0;
  try {
    built = statSync(ENTRY).mtimeMs;
  } catch {
    built = 0;
  }
  if (built >= newestModification(join(PROJECT_ROOT, "src"))) return;
  execFileSync("npm", ["run", "build"], { cwd: PROJECT_ROOT, stdio: "pipe", timeout: 120_000 });
}

export interface ServerProcess {
  url: string;
  port: number;
  pid: number;
  /** Every line the process wrote except the per-request log lines, which a load makes many. */
  output: string[];
  /** Resolves with the exit code and signal once the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends a signal, as a container runtime or Ctrl-C would. */
  signal(signal: NodeJS.Signals): void;
  /** Resident memory in KiB, from /proc/<pid>/status. */
  rssKib(): number;
  /** Open file descriptors that are sockets, from /proc/<pid>/fd. */
  openSockets(): number;
  /** SIGTERM, then SIGKILL if the process outlives its shutdown grace; resolves with its exit code. */
  stop(): Promise<number | null>;
}

function isPerRequest(line: string): boolean {
  if (!line.startsWith("{")) return false;
  try {
    const entry = JSON.parse(line) as { level?: number; reqId?: unknown };
    return entry.level === 30 && entry.reqId !== undefined;
  } catch {
    return false;
  }
}

/**
 * Runs the server on 127.0.0.1 with a port of its own choosing, resolving once it logs where
 * it listens (an info line, so LOG_LEVEL is info whatever `env` says). It runs the build,
 * `node dist/server.js`, as deployed; `from: "source"` runs src/server.ts through tsx instead,
 * for a test that must never meet a stale build.
 */
export async function startServerProcess(
  env: Record<string, string>,
  options: { from?: "dist" | "source" } = {},
): Promise<ServerProcess> {
  const args = options.from === "source" ? ["--import", "tsx", "src/server.ts"] : [ENTRY];
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH ?? "", HOST: "127.0.0.1", PORT: "0", ...env, LOG_LEVEL: "info" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: string[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`server did not start in time:\n${output.join("\n")}`)),
      START_BOUND_MS,
    );
    const listen = (line: string) => {
      if (!isPerRequest(line)) output.push(line);
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(line);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", listen);
    createInterface({ input: child.stderr as NodeJS.ReadableStream }).on("line", listen);
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${output.join("\n")}`));
    });
  });
  const pid = child.pid as number;
  return {
    url,
    port: Number(new URL(url).port),
    pid,
    output,
    exited,
    signal(signal) {
      child.kill(signal);
    },
    rssKib() {
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      return Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? Number.NaN);
    },
    openSockets() {
      let sockets = 0;
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        try {
          if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith("socket:")) sockets++;
        } catch {
          // The descriptor closed between listing and reading it.
        }
      }
      return sockets;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill("SIGTERM");
      const kill = setTimeout(() => child.kill("SIGKILL"), STOP_BOUND_MS);
      const { code } = await exited;
      clearTimeout(kill);
      return code;
    },
  };
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

export interface ProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node <args>` in the project with only `env` (and PATH), to its end; rejects if it has
 * not ended within `boundMs`, having killed it.
 */
export function runToExit(
  args: string[],
  env: Record<string, string>,
  boundMs = START_BOUND_MS,
): Promise<ProcessResult> {
  const child = spawn(process.execPath, args, {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`node ${args.join(" ")} did not end within ${boundMs} ms:\n${stderr}`));
    }, boundMs);
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}
