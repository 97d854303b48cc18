import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { FaultSpec } from "../fake-github/server.js";
import { type Harness, startHarness } from "../helpers/harness.js";

const TIMEOUT_MS = 1_000;
// A hang costs GITHUB_TIMEOUT_MS; everything else answers at once. The margin absorbs a busy CI.
const ANSWER_BOUND_MS = 3 * TIMEOUT_MS;

interface FaultCase {
  name: string;
  fault: Omit<FaultSpec, "path">;
  status: number;
  /** The Retry-After the answer must carry, as an inclusive range of seconds. */
  retryAfter?: [number, number];
}

/** A rate limit leaves the service asking GitHub nothing until its reset. */
const isLimit = (testCase: FaultCase) => testCase.retryAfter !== undefined;

/** Every fault the fake can produce and the status API.md names for it. */
const FAULTS: FaultCase[] = [
  // One 5xx is retried away: the caller never sees it.
  { name: "a 5xx once", fault: { kind: "5xx-once" }, status: 200 },
  { name: "a lasting 5xx", fault: { kind: "5xx-always" }, status: 502 },
  { name: "a lasting 503", fault: { kind: "5xx-always", status: 503 }, status: 502 },
  { name: "a hang", fault: { kind: "hang" }, status: 504 },
  { name: "a reset socket", fault: { kind: "reset" }, status: 502 },
  { name: "a truncated body", fault: { kind: "truncated" }, status: 502 },
  { name: "a malformed body", fault: { kind: "malformed" }, status: 502 },
  {
    name: "a body of the wrong shape",
    fault: { kind: "malformed", body: '{"unexpected": true}' },
    status: 502,
  },
  {
    name: "the primary rate limit",
    fault: { kind: "rate-limit", retryAfterSeconds: 120 },
    status: 503,
    retryAfter: [110, 121],
  },
  {
    name: "the primary rate limit as a 429",
    fault: { kind: "rate-limit", status: 429, retryAfterSeconds: 30 },
    status: 503,
    retryAfter: [20, 31],
  },
  {
    name: "a secondary rate limit with Retry-After",
    fault: { kind: "secondary-rate-limit", retryAfterSeconds: 42 },
    status: 503,
    retryAfter: [42, 42],
  },
  { name: "a 301 loop", fault: { kind: "redirect-loop" }, status: 502 },
];

interface Endpoint {
  name: string;
  /** The service's path for a fresh account `login` with a repository `repo`. */
  path(login: string): string;
  /** GitHub's paths the fault is put on. */
  upstream(login: string): RegExp;
}

const ENDPOINTS: Endpoint[] = [
  {
    name: "the listing",
    path: (login) => `/repositories?username=${login}`,
    upstream: (login) => new RegExp(`^/users/${login}(/repos)?$`),
  },
  {
    name: "the details",
    path: (login) => `/repositories/${login}/repo?save_data=true`,
    upstream: (login) => new RegExp(`^/repos/${login}/repo$`),
  },
];

const cases = ENDPOINTS.flatMap((endpoint) =>
  FAULTS.map((fault) => ({ ...fault, endpoint, label: `${endpoint.name}: ${fault.name}` })),
);

async function expectAnswered(h: Harness, testCase: (typeof cases)[number], login: string) {
  h.fake.addUser({ login });
  h.fake.addRepo(login, { name: "repo" });
  h.fake.injectFault({ ...testCase.fault, path: testCase.endpoint.upstream(login) });
  const started = performance.now();
  const response = await h.get(testCase.endpoint.path(login));
  const elapsed = performance.now() - started;
  h.fake.clearFaults();

  expect(response.status).toBe(testCase.status);
  expect(elapsed).toBeLessThan(ANSWER_BOUND_MS);
  if (testCase.status !== 200) {
    expect(response.headers["content-type"]).toBe("application/problem+json; charset=utf-8");
    expect(response.body).toMatchObject({ status: testCase.status });
    expect(response.body.detail).toMatch(/retry/i);
  }
  if (testCase.retryAfter) {
    const [low, high] = testCase.retryAfter;
    const retryAfter = Number(response.headers["retry-after"]);
    expect(retryAfter).toBeGreaterThanOrEqual(low);
    expect(retryAfter).toBeLessThanOrEqual(high);
  } else if (testCase.status !== 503) {
    expect(response.headers["retry-after"]).toBeUndefined();
  }
}

describe("every GitHub fault, for the listing and the details", () => {
  let h: Harness;
  let accounts = 0;

  beforeAll(async () => {
    h = await startHarness({ env: { GITHUB_TIMEOUT_MS: String(TIMEOUT_MS) } });
    h.fake.addUser({ login: "steady", id: 1 });
    h.fake.addRepo("steady", { name: "repo", id: 1_000 });
  });
  afterAll(() => h.close());

  it.each(cases.filter((testCase) => !isLimit(testCase)))(
    "$label answers $status in bounded time",
    async (testCase) => {
      // A fresh account per case, so no cached answer from another case can hide the fault.
      await expectAnswered(h, testCase, `faulty-${++accounts}`);
    },
  );

  it("still serves normal requests after all of them", async () => {
    const listing = await h.get("/repositories?username=steady");
    expect(listing.status).toBe(200);
    expect(listing.body.repositories).toHaveLength(1);
    const details = await h.get("/repositories/steady/repo?save_data=true");
    expect(details.status).toBe(200);
    expect(details.body.saved).toBe(true);
    const local = await h.get("/repositories?username=steady&from_local=true");
    expect(local.status).toBe(200);
    expect(h.logs.filter((line) => JSON.parse(line).level >= 50)).toEqual([]);
  });
});

describe("every GitHub rate limit, for the listing and the details", () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({ env: { GITHUB_TIMEOUT_MS: String(TIMEOUT_MS) } });
  });
  afterEach(() => h.close());

  it.each(cases.filter(isLimit))("$label answers $status in bounded time", async (testCase) => {
    await expectAnswered(h, testCase, "limited");
  });
});
