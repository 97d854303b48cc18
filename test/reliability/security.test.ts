import { sql } from "drizzle-orm";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FaultKind } from "../fake-github/server.js";
import { queryRows } from "../helpers/databases.js";
import { type Harness, startHarness } from "../helpers/harness.js";
import { rawGet } from "./raw-http.js";

const TOKEN = "ghp_SecurityTestToken0123456789abcdefABCD";
const FAULT_KINDS: FaultKind[] = [
  "5xx-once",
  "5xx-always",
  "hang",
  "reset",
  "truncated",
  "malformed",
  "rate-limit",
  "secondary-rate-limit",
  "redirect-loop",
];

/** Everything a caller can see of an answer, as one string to search. */
async function visible(h: Harness, path: string, init: { method?: "GET" | "PUT" } = {}) {
  const response = await request(`${h.url}${path}`, {
    method: init.method ?? "GET",
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.body.text();
  return {
    status: response.statusCode,
    seen: `${response.statusCode} ${JSON.stringify(response.headers)} ${text}`,
  };
}

describe("the GitHub token stays secret through every error path", () => {
  let h: Harness;
  const seen: string[] = [];
  const statuses = new Set<number>();
  let databaseClosed = false;

  const record = async (path: string) => {
    const answer = await visible(h, path);
    seen.push(answer.seen);
    statuses.add(answer.status);
    return answer.status;
  };

  beforeAll(async () => {
    // trace: the most the service ever logs, so a token in any log statement would show.
    h = await startHarness({
      env: { GITHUB_TOKEN: TOKEN, GITHUB_TIMEOUT_MS: "1000", LOG_LEVEL: "trace" },
    });
    h.fake.addUser({ login: "octocat", id: 1 });
    h.fake.addRepo("octocat", { name: "repo", id: 10 });
    h.fake.addRepo("octocat", { name: "secret", id: 11, private: true, visibility: "private" });
  });
  afterAll(async () => {
    if (!databaseClosed) return h?.close();
    // The harness would close the database a second time.
    await h.app.close();
    await h.fake.close();
  });

  it("through each GitHub fault, on both endpoints", async () => {
    for (const [index, kind] of FAULT_KINDS.entries()) {
      const login = `faulty-${index}`;
      h.fake.addUser({ login, id: 100 + index });
      h.fake.addRepo(login, { name: "repo", id: 1_000 + index });
      h.fake.injectFault({ kind, path: new RegExp(`^/(users|repos)/${login}(/|$)`) });
      await record(`/repositories?username=${login}`);
      await record(`/repositories/${login}/repo?save_data=true`);
      h.fake.clearFaults();
    }
    expect([...statuses]).toEqual(expect.arrayContaining([200, 502, 503, 504]));
    // The fake did receive the token: the check below searches where it could leak.
    expect(h.fake.requests.every((r) => r.headers.authorization === `Bearer ${TOKEN}`)).toBe(true);
  });

  it("through 400s, 404s, 413 and 414", async () => {
    await record("/repositories");
    await record("/repositories?username=bad_name");
    await record("/repositories/octocat/repo");
    await record("/repositories/repo?save_data=true");
    await record("/repositories/octocat/nothing?save_data=false");
    await record("/repositories/octocat/secret?save_data=true");
    await record("/repositories?username=ghost");
    await record("/repositories?username=octocat&from_local=true");
    await record("/no-such-endpoint");
    await record(`/repositories?username=${"a".repeat(2_100)}`);
    const tooLarge = await request(`${h.url}/health`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: "x".repeat(2_048),
    });
    seen.push(`${JSON.stringify(tooLarge.headers)} ${await tooLarge.body.text()}`);
    expect([...statuses]).toEqual(expect.arrayContaining([400, 404, 414]));
    expect(tooLarge.statusCode).toBe(413);
  });

  it("through a database that is gone", async () => {
    await h.test.database.close();
    databaseClosed = true;
    expect(await record("/ready")).toBe(503);
    expect(await record("/repositories?username=octocat&from_local=true")).toBe(503);
    expect(await record("/repositories/octocat/repo?save_data=true")).toBe(503);
  });

  it("appears in no answer and no log line", () => {
    expect(seen.length).toBeGreaterThan(30);
    expect(h.logs.length).toBeGreaterThan(30);
    const everything = [...seen, ...h.logs].join("\n");
    expect(everything).not.toContain(TOKEN);
    // Nor a recognisable part of it, as a truncated or encoded copy would be.
    expect(everything).not.toContain(TOKEN.slice(4, 20));
    expect(everything).not.toContain(Buffer.from(TOKEN).toString("base64").slice(0, 20));
  });
});

describe("with a token and the default settings", () => {
  // One app for both groups below: starting one costs seconds of the suite's time.
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ env: { GITHUB_TOKEN: TOKEN } });
    h.fake.addUser({ login: "octocat", id: 1 });
    h.fake.addRepo("octocat", { name: "open", id: 10 });
    h.fake.addRepo("octocat", { name: "secret", id: 11, private: true, visibility: "private" });
    h.fake.addRepo("octocat", { name: "corp-only", id: 12, private: true, visibility: "internal" });
    h.fake.addRepo("octocat", { name: "old-secret", id: 13, private: true, omitVisibility: true });
    h.fake.addRepo("octocat", { name: "moved-secret", id: 14, private: true });
  });
  afterAll(() => h.close());

  describe("the private-repository rule", () => {
    it("answers a non-public repository exactly like a missing one, in both forms, and saves nothing", async () => {
      h.fake.renameRepo("octocat", "moved-secret", "renamed-secret");
      // The problem without its instance, with the asked-for name blanked: what may differ.
      const shape = (body: Record<string, unknown>, name: string) => {
        const { instance: _, ...problem } = body;
        return JSON.stringify(problem).replaceAll(name, "{name}");
      };
      const missing = await h.get("/repositories/octocat/never-existed?save_data=true");
      expect(missing.status).toBe(404);
      for (const [path, name] of [
        ["/repositories/octocat/secret?save_data=true", "secret"],
        ["/repositories/secret?username=octocat&save_data=true", "secret"],
        ["/repositories/octocat/corp-only?save_data=true", "corp-only"],
        ["/repositories/octocat/old-secret?save_data=true", "old-secret"],
        ["/repositories/octocat/moved-secret?save_data=true", "moved-secret"],
      ] as const) {
        const answer = await h.get(path);
        expect(answer.status, path).toBe(404);
        // No field, not even the wording, tells a hidden repository from a missing one.
        expect(shape(answer.body, name), path).toBe(shape(missing.body, "never-existed"));
      }
      expect(await queryRows(h.test.database, sqlCount("repository"))).toEqual([{ count: 0 }]);
      expect(await queryRows(h.test.database, sqlCount("user"))).toEqual([{ count: 0 }]);
    });

    it("lists only the public repositories, from GitHub and from the database", async () => {
      const listing = await h.get("/repositories?username=octocat");
      expect(listing.body.repositories.map((r: { name: string }) => r.name)).toEqual(["open"]);
      expect((await h.get("/repositories/octocat/open?save_data=true")).status).toBe(200);
      const local = await h.get("/repositories?username=octocat&from_local=true");
      expect(local.body.repositories.map((r: { name: string }) => r.name)).toEqual(["open"]);
    });
  });

  describe("HTTP protections", () => {
    it("sends helmet's security headers on answers and on problems, and no x-powered-by", async () => {
      for (const path of [
        "/health",
        "/repositories",
        "/nothing",
        "/repositories?username=octocat",
      ]) {
        const { headers } = await h.get(path);
        expect(headers, path).toMatchObject({
          "x-content-type-options": "nosniff",
          "x-frame-options": "SAMEORIGIN",
          "referrer-policy": "no-referrer",
          "strict-transport-security": expect.stringContaining("max-age="),
          "cross-origin-resource-policy": "same-origin",
        });
        expect(headers["x-powered-by"], path).toBeUndefined();
      }
    });

    it("refuses a body over 1 KiB with 413", async () => {
      const put = (size: number) =>
        request(`${h.url}/health`, {
          method: "PUT",
          headers: { "content-type": "application/json" },
          body: JSON.stringify("x".repeat(size - 2)),
        });
      // At the limit the body is read, and the missing route answers.
      const small = await put(1_024);
      await small.body.dump();
      expect(small.statusCode).toBe(404);
      const large = await put(1_025);
      expect(large.statusCode).toBe(413);
      expect(large.headers["content-type"]).toBe("application/problem+json; charset=utf-8");
      await large.body.dump();
    });

    it("answers 414 to a URL over 2048 characters and serves one of exactly 2048", async () => {
      const prefix = "/repositories?username=octocat&pad=";
      const atLimit = await h.get(`${prefix}${"x".repeat(2_048 - prefix.length)}`);
      expect(atLimit.status).toBe(200);
      const over = await h.get(`${prefix}${"x".repeat(2_049 - prefix.length)}`);
      expect(over.status).toBe(414);
      expect(over.body.detail).toContain("2048");
    });

    it("answers 431 to oversized headers without reaching a handler", async () => {
      const answer = await rawGet(h.url, "/health", {
        timeoutMs: 5_000,
        headers: { "x-padding": "p".repeat(20_000) },
      });
      expect(answer.status).toBe(431);
    });

    it("keeps CORS off without CORS_ORIGINS, preflights included", async () => {
      const preflight = await request(`${h.url}/repositories?username=octocat`, {
        method: "OPTIONS",
        headers: { origin: "https://evil.example", "access-control-request-method": "GET" },
      });
      await preflight.body.dump();
      expect(preflight.statusCode).toBe(404);
      expect(preflight.headers["access-control-allow-origin"]).toBeUndefined();
      const simple = await request(`${h.url}/health`, {
        headers: { origin: "https://evil.example" },
      });
      await simple.body.dump();
      expect(simple.headers["access-control-allow-origin"]).toBeUndefined();
    });

    it("applies no rate limit without RATE_LIMIT_PER_MINUTE", async () => {
      const statuses = await Promise.all(
        Array.from({ length: 120 }, async () => (await h.get("/repositories")).status),
      );
      expect(new Set(statuses)).toEqual(new Set([400]));
    });
  });
});

describe("CORS_ORIGINS and RATE_LIMIT_PER_MINUTE set", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      env: { CORS_ORIGINS: "https://app.example", RATE_LIMIT_PER_MINUTE: "5" },
    });
  });
  afterAll(() => h.close());

  it("allows only the configured origin, and only GET", async () => {
    const allowed = await request(`${h.url}/repositories?username=octocat`, {
      method: "OPTIONS",
      headers: { origin: "https://app.example", "access-control-request-method": "GET" },
    });
    await allowed.body.dump();
    expect(allowed.headers["access-control-allow-origin"]).toBe("https://app.example");
    expect(allowed.headers["access-control-allow-methods"]).toBe("GET");
    const other = await request(`${h.url}/health`, { headers: { origin: "https://evil.example" } });
    await other.body.dump();
    expect(other.headers["access-control-allow-origin"]).toBeUndefined();
  });

  it("counts every answer, errors included, and tells when to come back", async () => {
    const answers = [];
    for (let i = 0; i < 7; i++) answers.push(await h.get("/repositories"));
    expect(answers.map((a) => a.status)).toEqual([400, 400, 400, 400, 400, 429, 429]);
    const limited = answers.at(-1);
    expect(Number(limited?.headers["retry-after"])).toBeGreaterThan(0);
    expect(Number(limited?.headers["retry-after"])).toBeLessThanOrEqual(60);
    expect(limited?.body.status).toBe(429);
    // /health and /ready stay reachable for probes however busy a client is.
    expect((await h.get("/health")).status).toBe(200);
    expect((await h.get("/ready")).status).toBe(200);
  });
});

function sqlCount(table: "user" | "repository") {
  return sql.raw(`select count(*)::int as count from "${table}"`);
}
