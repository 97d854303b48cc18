/**
 * Soak: the built server (node dist/server.js) on a fresh Postgres database takes mixed requests
 * from SOAK_CONCURRENCY clients for SOAK_SECONDS while the fake GitHub faults 5% of its answers.
 * Fails (exit 1) on any 500, any request that got no answer, any error logged by the server,
 * memory or socket growth past the bounds below, or a service that does not answer normally
 * afterwards. Run with `npm run soak`; loopback only, stops by itself.
 */
import { Agent, request } from "undici";
import { FakeGitHub, type FaultKind } from "../test/fake-github/server.js";
import { createPostgresDatabase } from "../test/helpers/databases.js";
import {
  ensureBuilt,
  type ServerProcess,
  startServerProcess,
} from "../test/helpers/server-process.js";

const SECONDS = Number(process.env.SOAK_SECONDS ?? 30);
const CONCURRENCY = Number(process.env.SOAK_CONCURRENCY ?? 64);
const WARM_UP_SECONDS = 10;
const WINDOW_SECONDS = 10;
const FAULT_SHARE = 0.05;
const GITHUB_TIMEOUT_MS = 1_000;
const REQUEST_BOUND_MS = 15_000;
// Resident memory follows the garbage collector in a sawtooth (tens of MiB within seconds), so
// its troughs are compared: the lowest sample of the window just after the warm-up and the lowest
// of the last window, both under full load, may differ by at most this much. A leak of a few KB
// per request, over ten thousand and more requests, exceeds it.
const RSS_GROWTH_BOUND_KIB = 64 * 1024;
const RSS_PEAK_BOUND_KIB = 512 * 1024;
// Once the load stops and its connections close, what may stay open: the listening socket, the
// pg pool (max 10), GitHub keep-alive connections (the dispatcher's cap, 64) and a few spare.
const SOCKETS_AT_REST_BOUND = 1 + 10 + 64 + 5;
const FAULT_KINDS: FaultKind[] = [
  "5xx-always",
  "hang",
  "reset",
  "truncated",
  "malformed",
  "secondary-rate-limit",
  "redirect-loop",
];

interface Sample {
  second: number;
  rssKib: number;
  sockets: number;
}

const lowestRss = (samples: Sample[]) => Math.min(...samples.map((sample) => sample.rssKib));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const mib = (kib: number) => Math.round(kib / 102.4) / 10;

function seedGitHub(fake: FakeGitHub) {
  // One account large enough to page (250 repositories: three pages), many small ones.
  fake.addUser({ login: "big-org", id: 1, repoCount: 250 });
  for (let user = 2; user <= 40; user++) {
    fake.addUser({ login: `user-${user}`, id: user });
    for (let repo = 1; repo <= 5; repo++) fake.addRepo(`user-${user}`, { name: `repo-${repo}` });
  }
}

/** One request of the mix, chosen by a counter so every run sends the same sequence. */
function nextPath(n: number): string {
  const user = `user-${(n % 39) + 2}`;
  const repo = `repo-${(n % 5) + 1}`;
  switch (n % 10) {
    case 0:
      return "/repositories?username=big-org";
    case 1:
    case 2:
      return `/repositories?username=${user}`;
    case 3:
    case 4:
      return `/repositories?username=${user}&from_local=true`;
    case 5:
      return `/repositories/${user}/${repo}?save_data=true`;
    case 6:
      return `/repositories/${repo}?username=${user}&save_data=false`;
    case 7:
      return `/repositories/${user}/no-such-repo?save_data=true`;
    case 8:
      return n % 20 === 8 ? "/repositories?username=bad_name!" : "/ready";
    default:
      return "/health";
  }
}

async function main(): Promise<number> {
  if (!(SECONDS >= WARM_UP_SECONDS + 2 * WINDOW_SECONDS && CONCURRENCY >= 1)) {
    console.error(
      `SOAK_SECONDS must be at least ${WARM_UP_SECONDS + 2 * WINDOW_SECONDS} (two memory windows after the warm-up) and SOAK_CONCURRENCY at least 1`,
    );
    return 2;
  }
  ensureBuilt();
  const database = await createPostgresDatabase();
  const fake = await FakeGitHub.start({ latencyMs: 2, seed: 4 });
  seedGitHub(fake);
  const server: ServerProcess = await startServerProcess({
    DATABASE_URL: database.url,
    GITHUB_API_URL: fake.url,
    GITHUB_TIMEOUT_MS: String(GITHUB_TIMEOUT_MS),
    GITHUB_TOKEN: "ghp_soakTestToken",
  });
  const agent = new Agent({ connections: CONCURRENCY });
  const failures: string[] = [];
  const statuses = new Map<number, number>();
  const samples: Sample[] = [];
  let sent = 0;
  let unanswered = 0;

  try {
    // Each kind gets an equal share, so that together they answer FAULT_SHARE of requests.
    const perKind = 1 - (1 - FAULT_SHARE) ** (1 / FAULT_KINDS.length);
    for (const kind of FAULT_KINDS) {
      fake.injectFault({ kind, probability: perKind, retryAfterSeconds: 1 });
    }
    const started = performance.now();
    const deadline = started + SECONDS * 1_000;
    // GitHub's hourly allowance would run out within the run; a fresh one keeps answers coming.
    const refill = setInterval(() => fake.setRateLimit(5_000), 1_000);
    const sampler = setInterval(() => {
      const second = Math.round((performance.now() - started) / 1_000);
      try {
        samples.push({ second, rssKib: server.rssKib(), sockets: server.openSockets() });
      } catch {
        failures.push(`the server process was gone at second ${second}`);
      }
    }, 1_000);

    const client = async () => {
      while (performance.now() < deadline) {
        const path = nextPath(sent++);
        try {
          const response = await request(`${server.url}${path}`, {
            dispatcher: agent,
            signal: AbortSignal.timeout(REQUEST_BOUND_MS),
          });
          await response.body.dump();
          statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
          if (response.statusCode === 500) failures.push(`500 for ${path}`);
        } catch (error) {
          unanswered++;
          failures.push(`no answer for ${path}: ${(error as Error).message}`);
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, client));
    clearInterval(sampler);
    const baselineRss = lowestRss(
      samples.filter((sample) => sample.second > WARM_UP_SECONDS).slice(0, WINDOW_SECONDS),
    );
    const endRss = lowestRss(samples.slice(-WINDOW_SECONDS));
    const peakRss = Math.max(...samples.map((sample) => sample.rssKib));
    clearInterval(refill);
    fake.clearFaults();
    fake.setRateLimit(5_000);
    await agent.close();
    // Let the server notice the closed client connections and cancelled GitHub requests.
    await sleep(2_000);
    const restingSockets = server.openSockets();

    if (endRss - baselineRss > RSS_GROWTH_BOUND_KIB) {
      failures.push(
        `RSS troughs grew ${mib(endRss - baselineRss)} MiB after warm-up (bound ${mib(RSS_GROWTH_BOUND_KIB)} MiB)`,
      );
    }
    if (peakRss > RSS_PEAK_BOUND_KIB) {
      failures.push(`RSS peaked at ${mib(peakRss)} MiB (bound ${mib(RSS_PEAK_BOUND_KIB)} MiB)`);
    }
    if (restingSockets > SOCKETS_AT_REST_BOUND) {
      failures.push(`${restingSockets} sockets open at rest (bound ${SOCKETS_AT_REST_BOUND})`);
    }

    const after: Record<string, number> = {};
    for (const path of [
      "/ready",
      "/repositories?username=big-org",
      "/repositories/user-2/repo-1?save_data=true",
      "/repositories?username=user-2&from_local=true",
    ]) {
      const response = await request(`${server.url}${path}`, {
        signal: AbortSignal.timeout(REQUEST_BOUND_MS),
      });
      await response.body.dump();
      after[path] = response.statusCode;
      if (response.statusCode !== 200)
        failures.push(`afterwards ${path} answered ${response.statusCode}`);
    }
    const errorsLogged = server.output.filter(
      (line) => !line.startsWith("{") || JSON.parse(line).level >= 50,
    );
    for (const line of errorsLogged.slice(0, 5))
      failures.push(`server logged: ${line.slice(0, 300)}`);

    const elapsed = (performance.now() - started) / 1_000;
    const answered = [...statuses.values()].reduce((total, count) => total + count, 0);
    console.log(
      JSON.stringify(
        {
          seconds: Math.round(elapsed * 10) / 10,
          concurrency: CONCURRENCY,
          faultShare: FAULT_SHARE,
          requests: sent,
          answered,
          unanswered,
          requestsPerSecond: Math.round(answered / elapsed),
          statuses: Object.fromEntries([...statuses].sort(([a], [b]) => a - b)),
          githubRequests: fake.requests.length,
          rssMib: {
            lowestAfterWarmUp: mib(baselineRss),
            lowestAtEnd: mib(endRss),
            growthBound: mib(RSS_GROWTH_BOUND_KIB),
            peak: mib(peakRss),
            peakBound: mib(RSS_PEAK_BOUND_KIB),
          },
          sockets: { atRest: restingSockets, bound: SOCKETS_AT_REST_BOUND },
          samples: samples
            .filter((sample) => sample.second % 5 === 0)
            .map(({ second, rssKib, sockets }) => ({ second, rssMib: mib(rssKib), sockets })),
          afterwards: after,
          serverErrorsLogged: errorsLogged.length,
        },
        null,
        2,
      ),
    );
  } finally {
    await server.stop();
    await fake.close();
    await database.drop();
  }

  if (failures.length > 0) {
    console.error(`SOAK FAILED (${failures.length}):\n${failures.slice(0, 20).join("\n")}`);
    return 1;
  }
  console.log("SOAK PASSED");
  return 0;
}

process.exitCode = await main();
