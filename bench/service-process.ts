import { type ChildProcess, spawn } from "node:child_process";
import { openSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createServer } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { request } from "undici";
import { PROJECT_ROOT } from "../src/project-root.js";

const READY_POLL_MS = 5;
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;

/** A free port on 127.0.0.1, chosen by the kernel. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

/** Kilobytes from a `VmRSS:`-style line of /proc/<pid>/status. */
async function statusKb(pid: number, field: "VmHWM" | "VmRSS"): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
  if (!match) throw new Error(`/proc/${pid}/status has no ${field}`);
  return Number(match[1]);
}

export interface RunningProcess {
  url: string;
  pid: number;
  /** From spawn to the first 200 of GET /ready. */
  startupMs: number;
  /** The highest resident set size so far (VmHWM), in MB. */
  peakRssMb(): Promise<number>;
  rssMb(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Runs `node <args>` from the project root (or `cwd`) with its output in `logFile`, and resolves once
 * GET /ready answers 200. The log goes straight to a file, so the bench spends no CPU on it.
 */
export async function startProcess(options: {
  args: string[];
  env: Record<string, string>;
  logFile: string;
  /** Where node runs; the project's root unless a baseline checkout is measured. */
  cwd?: string;
}): Promise<RunningProcess> {
  const port = await freePort();
  const log = openSync(options.logFile, "a");
  const started = performance.now();
  const child: ChildProcess = spawn(process.execPath, options.args, {
    cwd: options.cwd ?? PROJECT_ROOT,
    env: { PATH: process.env.PATH ?? "", ...options.env, PORT: String(port), HOST: "127.0.0.1" },
    stdio: ["ignore", log, log],
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  let exitCode: number | null | undefined;
  void exited.then((code) => {
    exitCode = code;
  });
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    if (exitCode !== undefined) {
      throw new Error(`${options.args.join(" ")} exited with ${exitCode}; see ${options.logFile}`);
    }
    if (performance.now() - started > START_TIMEOUT_MS) {
      child.kill("SIGKILL");
      throw new Error(`${options.args.join(" ")} was not ready within ${START_TIMEOUT_MS} ms`);
    }
    try {
      const response = await request(`${url}/ready`);
      await response.body.dump();
      if (response.statusCode === 200) break;
    } catch {
      // Not listening yet.
    }
    await sleep(READY_POLL_MS);
  }
  const startupMs = performance.now() - started;
  const pid = child.pid as number;
  return {
    url,
    pid,
    startupMs,
    peakRssMb: async () => (await statusKb(pid, "VmHWM")) / 1024,
    rssMb: async () => (await statusKb(pid, "VmRSS")) / 1024,
    async stop() {
      if (exitCode !== undefined) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}
