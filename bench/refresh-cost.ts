/**
 * `npm run bench:refresh`: what one refresh round of an account saved whole costs GitHub, by
 * account size and by what changed since the last round, measured against the fake GitHub with
 * the service in this process on PGlite. GitHub's answers go stale at once here (max-age 0), so
 * every round asks GitHub; with GitHub's own max-age of 60 s, a round within a minute of the
 * last asks nothing. Prints a Markdown table for docs/refreshing.md.
 */
import { FakeGitHub } from "../test/fake-github/server.js";
import { listedAtMs } from "../test/helpers/databases.js";
import { startHarness } from "../test/helpers/harness.js";

const SIZES = [10, 300, 1000, 5000];
const SCENARIOS: Array<{
  label: string;
  change: (fake: FakeGitHub, login: string, aRepository: string) => void;
}> = [
  { label: "nothing", change: () => {} },
  {
    label: "one repository's stars",
    change: (fake, login, name) => fake.updateRepo(login, name, { stargazers_count: 12_345 }),
  },
  {
    label: "a new repository",
    change: (fake, login) => fake.addRepo(login, { name: `created-${Date.now()}` }),
  },
];

const fake = await FakeGitHub.start({ maxAgeSeconds: 0 });
const h = await startHarness({
  fake,
  env: {
    REFRESH_INTERVAL_S: "1",
    GITHUB_TOKEN: "ghp_refresh_cost_0123456789abcdef0123",
    GITHUB_TIMEOUT_MS: "30000",
    LOG_LEVEL: "warn",
  },
});

const listedAt = (id: number) => listedAtMs(h.test.database, id);
async function nextRefresh(id: number) {
  const since = await listedAt(id);
  const deadline = Date.now() + 60_000;
  while ((await listedAt(id)) <= since) {
    if (Date.now() > deadline) throw new Error(`account ${id} was not refreshed within 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const rows: string[] = [];
try {
  for (const [index, size] of SIZES.entries()) {
    const id = 8_800_000 + index;
    const login = `cost-${size}`;
    fake.addUser({ login, id, repoCount: size });
    const saved = await h.get(`/repositories/?username=${login}&save_data=true`);
    const aRepository = saved.body.repositories[0].name as string;
    // The first round asks for the account by id, new to the cache.
    await nextRefresh(id);
    for (const { label, change } of SCENARIOS) {
      // A round has just saved the account; the next one is the round measured.
      await nextRefresh(id);
      fake.resetRequests();
      change(fake, login, aRepository);
      await nextRefresh(id);
      const mine = fake.requests.filter((request) =>
        new RegExp(`^/(user/${id}|users/${login})(/repos)?(\\?|$)`).test(request.path),
      );
      const charged = mine.filter((request) => request.status !== 304).length;
      rows.push(`| ${size} | ${label} | ${mine.length} | ${charged} |`);
    }
  }
} finally {
  await h.close();
  await fake.close();
}
const header = [
  "| repositories | changed since the last round | requests | rate-limit units |",
  "| --- | --- | --- | --- |",
];
process.stdout.write(`${[...header, ...rows].join("\n")}\n`);
