import { setTimeout as sleep } from "node:timers/promises";
import { request } from "undici";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "../helpers/harness.js";

const LATENCY_MS = 200;

/** Asks and leaves after `ms`, as a caller whose own timeout ran out. */
async function abandon(url: string, ms: number) {
  await expect(request(url, { signal: AbortSignal.timeout(ms) })).rejects.toThrow();
}

describe("requests their callers abandon", () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ env: { GITHUB_TOKEN: "ghp_abandonedTestToken" } });
    for (let index = 0; index < 5; index++)
      h.fake.addUser({ login: `left-${index}`, repoCount: 1_000 });
    h.fake.addUser({ login: "shared-left", repoCount: 1_000 });
  });
  afterAll(() => h.close());
  beforeEach(() => {
    h.fake.latencyMs = LATENCY_MS;
    h.fake.resetRequests();
  });

  it("ask GitHub for nothing more once their callers have gone", async () => {
    await Promise.all(
      Array.from({ length: 5 }, (_, index) =>
        abandon(`${h.url}/repositories?username=left-${index}`, LATENCY_MS / 2),
      ),
    );
    // A bound, not a timing goal: the other pages would have gone out within one latency of
    // the first page's headers, had the listings gone on.
    await sleep(3 * LATENCY_MS);
    // At most each listing's account and first page went out before its caller left (those
    // still waiting for a turn asked nothing); no later page did.
    expect(h.fake.requests.length).toBeGreaterThan(0);
    expect(h.fake.requests.length).toBeLessThanOrEqual(5 * 2);
    expect(h.fake.requests.filter((entry) => /[?&]page=/.test(entry.path))).toEqual([]);
    expect(h.logs.filter((line) => JSON.parse(line).level >= 50)).toEqual([]);
  });

  it("go on for a caller still waiting when an identical one leaves", async () => {
    const [, kept] = await Promise.all([
      abandon(`${h.url}/repositories?username=shared-left`, LATENCY_MS / 2),
      h.get("/repositories?username=shared-left"),
    ]);
    expect(kept.status).toBe(200);
    expect(kept.body.repositories).toHaveLength(1_000);
    // One account and ten pages, shared by both callers.
    expect(h.fake.requests).toHaveLength(11);
  });
});
