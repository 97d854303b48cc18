/**
 * Soak: the built server (node dist/server.js) on a fresh Postgres database takes mixed requests
 * from SOAK_CONCURRENCY clients for SOAK_SECONDS while the fake GitHub faults 5% of its answers.
 * The mix includes accounts of 2,000 to 5,000 repositories that change while they are listed,
 * and hostile answers: a Link naming page 100000, a page over GITHUB_MAX_RESPONSE_BYTES, a
 * redirect to another host.
 * Fails (exit 1) on any 500, any request that got no answer, any error logged by the server,
 * memory or socket growth past the bounds below, a big listing answered incomplete, a hostile
 * answer served or saved, or a service that does not answer normally afterwards. Run with
 * `npm run soak`; loopback only, stops by itself.
 */
import pg from "pg";
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

// Accounts listed from GitHub in full: 20 to 50 pages each. Their answers stay fresh for
// MAX_AGE_SECONDS (GitHub says 60), and every CHANGE_EVERY_MS one repository on each of their
// pages changes, so that the next listing of each reads every page from GitHub again. (Adding
// repositories would shift GitHub's offset pages, and a listing would then miss or repeat one at
// a page's edge, as it can on GitHub; changing them keeps every listing's count exact.)
const BIG_ACCOUNTS = [2_000, 3_000, 4_000, 5_000].map((repositories, index) => ({
  login: `huge-${repositories}`,
  id: 1_001 + index,
  repositories,
}));
const MAX_AGE_SECONDS = 2;
const TOKEN = "ghp_soakTestToken";
const CHANGE_EVERY_MS = 3_000;
// Random faults spare the big accounts, so that their listings, 21 to 51 GitHub requests each,
// mostly succeed and hold their pages in memory; every other path is faulted as before.
const FAULTED_PATHS = /^(?!\/users\/huge-|\/user\/100[1-4]\/)/;
// One page over the default GITHUB_MAX_RESPONSE_BYTES of 5 MiB.
const OVERSIZED_BYTES = 6 * 1024 * 1024;
// Every answer to these must be a 502 (a listing may also be told the service is busy, 503):
// the inflated Link asks for no page beyond the first, the oversized page is read no further,
// and the redirect's other host is never asked.
const HOSTILE = {
  inflatedLink: "/repositories?username=hostile-link",
  oversized: "/repositories?username=hostile-bloated",
  redirectAway: "/repositories/hostile-away/moved?save_data=true",
} as const;
type Kind = "big" | keyof typeof HOSTILE;
const HOSTILE_LINK_ID = 2_001;
const MOVED_REPOSITORY_ID = 990_001;

interface Sample {
  second: number;
  rssKib: number;
  sockets: number;
}

const lowestRss = (samples: Sample[]) => Math.min(...samples.map((sample) => sample.rssKib));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const mib = (kib: number) => Math.round(kib / 102.4) / 10;

function seedGitHub(fake: FakeGitHub, elsewhere: FakeGitHub) {
  // One account large enough to page (250 repositories: three pages), many small ones.
  fake.addUser({ login: "big-org", id: 1, repoCount: 250 });
  for (let user = 2; user <= 40; user++) {
    fake.addUser({ login: `user-${user}`, id: user });
    for (let repo = 1; repo <= 5; repo++) fake.addRepo(`user-${user}`, { name: `repo-${repo}` });
  }
  for (const { login, id, repositories } of BIG_ACCOUNTS) {
    fake.addUser({ login, id, repoCount: repositories });
  }
  fake.addUser({ login: "hostile-link", id: HOSTILE_LINK_ID, repoCount: 5 });
  fake.addUser({ login: "hostile-bloated", repoCount: 5 });
  fake.addUser({ login: "hostile-away" });
  fake.addRepo("hostile-away", { name: "moved", id: MOVED_REPOSITORY_ID });
  elsewhere.addUser({ login: "hostile-away" });
  elsewhere.addRepo("hostile-away", { name: "moved", id: MOVED_REPOSITORY_ID + 1 });
  // Injected before the random faults, so they answer every request for their paths.
  fake.injectFault({ kind: "inflated-link", path: "/users/hostile-link/repos", lastPage: 100_000 });
  fake.injectFault({
    kind: "oversized",
    path: "/users/hostile-bloated/repos",
    bytes: OVERSIZED_BYTES,
  });
  fake.injectFault({
    kind: "redirect-away",
    path: "/repos/hostile-away/moved",
    location: `${elsewhere.url}/repos/hostile-away/moved`,
  });
}

function countBy<T>(items: T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}

/** The name of one repository on each page of each big account, read from the fake. */
async function onePerPage(fake: FakeGitHub): Promise<Map<string, string[]>> {
  const names = new Map<string, string[]>();
  for (const { login, repositories } of BIG_ACCOUNTS) {
    const page = [];
    for (let number = 1; number <= Math.ceil(repositories / 100); number++) {
      const url = `${fake.url}/users/${login}/repos?per_page=100&page=${number}`;
      const answer = await request(url, { headers: { authorization: `Bearer ${TOKEN}` } });
      const listed = (await answer.body.json()) as Array<{ name: string }>;
      page.push((listed[0] as { name: string }).name);
    }
    names.set(login, page);
  }
  fake.resetRequests();
  fake.setRateLimit(5_000);
  return names;
}

/** The kind of a request of the mix that the summary reports on its own, if any. */
function kindOf(path: string): Kind | undefined {
  if (path.startsWith("/repositories?username=huge-")) return "big";
  for (const [kind, hostile] of Object.entries(HOSTILE)) if (path === hostile) return kind as Kind;
  return undefined;
}

/** One request of the mix, chosen by a counter so every run sends the same sequence. */
function nextPath(n: number): string {
  const user = `user-${(n % 39) + 2}`;
  const repo = `repo-${(n % 5) + 1}`;
  const round = Math.floor(n / 12);
  switch (n % 12) {
    case 10:
      return `/repositories?username=${BIG_ACCOUNTS[round % BIG_ACCOUNTS.length]?.login}`;
    case 11: {
      const hostile = Object.values(HOSTILE);
      return hostile[round % hostile.length] as string;
    }
  }
  switch (n % 12) {
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
  const fake = await FakeGitHub.start({ latencyMs: 2, seed: 4, maxAgeSeconds: MAX_AGE_SECONDS });
  // The other host a hostile redirect points to; it must never be asked anything.
  const elsewhere = await FakeGitHub.start({ seed: 5 });
  seedGitHub(fake, elsewhere);
  const server: ServerProcess = await startServerProcess({
    DATABASE_URL: database.url,
    GITHUB_API_URL: fake.url,
    GITHUB_TIMEOUT_MS: String(GITHUB_TIMEOUT_MS),
    GITHUB_TOKEN: TOKEN,
  });
  const agent = new Agent({ connections: CONCURRENCY });
  const failures: string[] = [];
  const statuses = new Map<number, number>();
  const samples: Sample[] = [];
  const byKind = Object.fromEntries(
    (["big", ...Object.keys(HOSTILE)] as Kind[]).map((kind) => [kind, new Map<string, number>()]),
  ) as Record<Kind, Map<string, number>>;
  let bigRepositoriesServed = 0;
  let sent = 0;
  let unanswered = 0;

  try {
    // Each kind gets an equal share, so that together they answer FAULT_SHARE of requests.
    const perKind = 1 - (1 - FAULT_SHARE) ** (1 / FAULT_KINDS.length);
    for (const kind of FAULT_KINDS) {
      fake.injectFault({ kind, path: FAULTED_PATHS, probability: perKind, retryAfterSeconds: 1 });
    }
    const changing = await onePerPage(fake);
    let change = 0;
    const changer = setInterval(() => {
      change++;
      for (const [login, names] of changing) {
        for (const name of names) fake.updateRepo(login, name, { stargazers_count: change });
      }
    }, CHANGE_EVERY_MS);
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
          const kind = kindOf(path);
          const status = response.statusCode;
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          if (status === 500) failures.push(`500 for ${path}`);
          if (kind === undefined) {
            await response.body.dump();
          } else {
            const body = JSON.parse(await response.body.text());
            const answer = status === 200 ? "200" : `${status} ${String(body.type).slice(12)}`;
            byKind[kind].set(answer, (byKind[kind].get(answer) ?? 0) + 1);
            if (kind === "big" && status === 200) {
              const size = Number(/huge-(\d+)/.exec(path)?.[1]);
              bigRepositoriesServed += body.repositories.length;
              if (body.repositories.length !== size) {
                failures.push(`${path} listed ${body.repositories.length} repositories`);
              }
            }
            if (kind !== "big" && status < 300) failures.push(`${status} for hostile ${path}`);
          }
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
    clearInterval(changer);
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
    // What the hostile answers must not have cost: a page past the first for the inflated Link,
    // a request to the other host, a saved repository from it.
    const inflatedPagesAsked = fake.requests.filter((entry) =>
      entry.path.startsWith(`/user/${HOSTILE_LINK_ID}/repos`),
    ).length;
    if (inflatedPagesAsked > 0) {
      failures.push(`${inflatedPagesAsked} pages asked past an inflated Link's first`);
    }
    if (elsewhere.requests.length > 0) {
      failures.push(`the other host was asked ${elsewhere.requests.length} times`);
    }
    const rows = new pg.Client({ connectionString: database.url });
    await rows.connect();
    const saved = await rows
      .query("select count(*)::int as n from repository where id in ($1, $2)", [
        MOVED_REPOSITORY_ID,
        MOVED_REPOSITORY_ID + 1,
      ])
      .finally(() => rows.end());
    const movedSaved = saved.rows[0].n as number;
    if (movedSaved > 0) failures.push("a repository behind a redirect away was saved");
    for (const [kind, expected] of [
      ["inflatedLink", "502 github-bad-gateway"],
      ["oversized", "502 github-bad-gateway"],
      ["redirectAway", "502 github-bad-gateway"],
    ] as const) {
      if (!byKind[kind].has(expected)) failures.push(`no ${kind} request was answered ${expected}`);
    }
    if (!byKind.big.has("200")) failures.push("no big listing was answered 200");
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
          bigAccounts: {
            repositories: BIG_ACCOUNTS.map((account) => account.repositories),
            changes: change,
            // What GitHub was asked for them: 200s after each change, 304s when only stale.
            githubAnswers: countBy(
              fake.requests.filter((entry) => !FAULTED_PATHS.test(entry.path.split("?")[0] ?? "")),
              (entry) => String(entry.status),
            ),
            answers: Object.fromEntries(byKind.big),
            repositoriesServed: bigRepositoriesServed,
          },
          hostile: {
            inflatedLink: {
              answers: Object.fromEntries(byKind.inflatedLink),
              pagesAsked: inflatedPagesAsked,
            },
            oversized: { bytes: OVERSIZED_BYTES, answers: Object.fromEntries(byKind.oversized) },
            redirectAway: {
              answers: Object.fromEntries(byKind.redirectAway),
              otherHostAsked: elsewhere.requests.length,
              saved: movedSaved,
            },
          },
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
    await elsewhere.close();
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
