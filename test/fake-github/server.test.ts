import { request } from "undici";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { FakeGitHub } from "./server.js";

type Headers = Record<string, string | string[] | undefined>;

interface Reply {
  status: number;
  headers: Headers;
  text: string;
}

let fake: FakeGitHub;

beforeEach(async () => {
  fake = await FakeGitHub.start({ seed: 42 });
});

afterEach(async () => {
  await fake.close();
});

async function get(path: string, headers: Record<string, string> = {}): Promise<Reply> {
  const url = path.startsWith("http") ? path : `${fake.url}${path}`;
  const response = await request(url, { headers });
  return {
    status: response.statusCode,
    headers: response.headers,
    text: await response.body.text(),
  };
}

async function getJson<T = Record<string, unknown>>(
  path: string,
  headers?: Record<string, string>,
) {
  const reply = await get(path, headers);
  return { ...reply, body: JSON.parse(reply.text) as T };
}

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(", ") : value;
}

/** rel -> URL, failing on anything that is not `<url>; rel="name"` joined by ", ". */
function parseLinks(value: string | undefined): Record<string, string> {
  const links: Record<string, string> = {};
  for (const part of (value ?? "").split(", ").filter(Boolean)) {
    const match = /^<([^>]+)>; rel="(\w+)"$/.exec(part);
    if (!match?.[1] || !match[2]) throw new Error(`not a GitHub link: ${part}`);
    links[match[2]] = match[1];
  }
  return links;
}

function relOrder(value: string | undefined): string[] {
  return [...(value ?? "").matchAll(/rel="(\w+)"/g)].map((match) => match[1] as string);
}

const remaining = (reply: Reply) => Number(header(reply.headers, "x-ratelimit-remaining"));

describe("users", () => {
  it("answers the public-user shape, looking logins up case-insensitively", async () => {
    const octo = fake.addUser({ login: "OctoCat" });
    fake.addRepo("OctoCat", { name: "hello" });
    fake.addRepo("OctoCat", { name: "secret", private: true });
    const { status, body, headers } = await getJson("/users/octocat");
    expect(status).toBe(200);
    expect(body).toMatchObject({ login: "OctoCat", id: octo.id, type: "User", public_repos: 1 });
    expect(body.url).toBe(`${fake.url}/users/OctoCat`);
    expect(header(headers, "last-modified")).toBe(
      new Date(body.updated_at as string).toUTCString(),
    );
    expect(header(headers, "content-type")).toBe("application/json; charset=utf-8");
  });

  it("answers organizations with type Organization", async () => {
    fake.addUser({ login: "acme", type: "Organization" });
    const { body } = await getJson("/users/ACME");
    expect(body.type).toBe("Organization");
  });

  it("forgets the old login after renameUser until someone takes it", async () => {
    fake.addUser({ login: "old-name" });
    fake.addRepo("old-name", { name: "tool" });
    fake.renameUser("old-name", "new-name");
    expect((await get("/users/old-name")).status).toBe(404);
    expect((await get("/users/old-name/repos")).status).toBe(404);
    expect((await getJson("/users/new-name")).body.login).toBe("new-name");
    const moved = await get("/repos/old-name/tool");
    expect(moved.status).toBe(301);
    fake.addUser({ login: "old-name" });
    expect((await getJson("/users/old-name")).status).toBe(200);
  });

  it("answers an account by id, and 404 everywhere once deleteUser took it", async () => {
    const { id } = fake.addUser({ login: "short-lived" });
    const { id: repoId } = fake.addRepo("short-lived", { name: "with-it" });
    expect((await getJson(`/user/${id}`)).body.login).toBe("short-lived");
    fake.deleteUser("short-lived");
    for (const path of [
      `/user/${id}`,
      "/users/short-lived",
      "/users/short-lived/repos",
      "/repos/short-lived/with-it",
      `/repositories/${repoId}`,
    ]) {
      expect((await get(path)).status).toBe(404);
    }
  });
});

describe("repository listing", () => {
  it("pages 250 repositories over 3 pages with GitHub's Link header", async () => {
    const user = fake.addUser({ login: "many", repoCount: 250 });
    const first = await getJson<Array<Record<string, unknown>>>(
      "/users/many/repos?type=owner&per_page=100",
    );
    expect(first.body).toHaveLength(100);
    expect(header(first.headers, "link")).toBe(
      `<${fake.url}/user/${user.id}/repos?type=owner&per_page=100&page=2>; rel="next", ` +
        `<${fake.url}/user/${user.id}/repos?type=owner&per_page=100&page=3>; rel="last"`,
    );

    const second = await getJson<Array<Record<string, unknown>>>(
      parseLinks(header(first.headers, "link")).next as string,
    );
    expect(second.body).toHaveLength(100);
    expect(relOrder(header(second.headers, "link"))).toEqual(["prev", "next", "last", "first"]);
    const secondLinks = parseLinks(header(second.headers, "link"));
    expect(secondLinks.prev).toBe(
      `${fake.url}/user/${user.id}/repos?type=owner&per_page=100&page=1`,
    );
    expect(secondLinks.first).toBe(secondLinks.prev);

    const third = await getJson<Array<Record<string, unknown>>>(secondLinks.next as string);
    expect(third.body).toHaveLength(50);
    expect(relOrder(header(third.headers, "link"))).toEqual(["prev", "first"]);

    const all = [...first.body, ...second.body, ...third.body];
    expect(new Set(all.map((repo) => repo.id)).size).toBe(250);
    const names = all.map((repo) => String(repo.full_name).toLowerCase());
    expect(names).toEqual([...names].sort((a, b) => a.localeCompare(b, "en")));
    expect(fake.requests.map((r) => r.path.split("?")[0])).toEqual([
      "/users/many/repos",
      `/user/${user.id}/repos`,
      `/user/${user.id}/repos`,
    ]);
  });

  it("answers [] past the last page and clamps per_page to 30 by default and 100 at most", async () => {
    fake.addUser({ login: "many", repoCount: 120 });
    expect((await getJson<unknown[]>("/users/many/repos")).body).toHaveLength(30);
    expect((await getJson<unknown[]>("/users/many/repos?per_page=500")).body).toHaveLength(100);
    const past = await getJson<unknown[]>("/users/many/repos?per_page=100&page=9");
    expect(past.status).toBe(200);
    expect(past.body).toEqual([]);
  });

  it("sends no Link header for a single page, and serves /user/{id}/repos", async () => {
    const user = fake.addUser({ login: "few", repoCount: 3 });
    const byLogin = await getJson<unknown[]>("/users/few/repos?per_page=100");
    expect(byLogin.headers.link).toBeUndefined();
    const byId = await getJson<unknown[]>(`/user/${user.id}/repos?per_page=100`);
    expect(byId.body).toEqual(byLogin.body);
    expect((await get("/user/999999/repos")).status).toBe(404);
  });

  it("lists the minimal-repository shape: no subscribers_count, private ones only with a token", async () => {
    fake.addUser({ login: "owner" });
    fake.addRepo("owner", { name: "public-one", stargazers_count: 7, size: 12 });
    fake.addRepo("owner", { name: "private-one", private: true });
    fake.addRepo("owner", { name: "old-style", omitVisibility: true });
    const anonymous = await getJson<Array<Record<string, unknown>>>("/users/owner/repos");
    expect(anonymous.body.map((repo) => repo.name)).toEqual(["old-style", "public-one"]);
    const [oldStyle, publicOne] = anonymous.body;
    expect(publicOne).toMatchObject({
      stargazers_count: 7,
      watchers_count: 7,
      size: 12,
      visibility: "public",
    });
    expect(publicOne).not.toHaveProperty("subscribers_count");
    expect(publicOne).not.toHaveProperty("permissions");
    expect(oldStyle).not.toHaveProperty("visibility");
    const withToken = await getJson<Array<Record<string, unknown>>>("/users/owner/repos", {
      authorization: "Bearer test-token",
    });
    expect(withToken.body.map((repo) => repo.name)).toEqual([
      "old-style",
      "private-one",
      "public-one",
    ]);
    expect(withToken.body[1]).toMatchObject({ private: true, visibility: "private" });
    expect(header(withToken.headers, "cache-control")).toBe("private, max-age=60, s-maxage=60");
  });

  it("sorts by created, updated or pushed when asked", async () => {
    fake.addUser({ login: "sorter" });
    fake.addRepo("sorter", { name: "b", created_at: "2020-01-01T00:00:00Z" });
    fake.addRepo("sorter", { name: "a", created_at: "2021-01-01T00:00:00Z" });
    const newest = await getJson<Array<{ name: string }>>("/users/sorter/repos?sort=created");
    expect(newest.body.map((repo) => repo.name)).toEqual(["a", "b"]);
    const oldest = await getJson<Array<{ name: string }>>(
      "/users/sorter/repos?sort=created&direction=asc",
    );
    expect(oldest.body.map((repo) => repo.name)).toEqual(["b", "a"]);
  });
});

describe("single repositories", () => {
  it("answers the full-repository shape case-insensitively", async () => {
    fake.addUser({ login: "acme", type: "Organization" });
    const handle = fake.addRepo("acme", {
      name: "Widget",
      subscribers_count: 9,
      stargazers_count: 3,
    });
    const { status, body } = await getJson("/repos/ACME/widget");
    expect(status).toBe(200);
    expect(body).toMatchObject({
      id: handle.id,
      full_name: "acme/Widget",
      subscribers_count: 9,
      stargazers_count: 3,
      temp_clone_token: null,
    });
    expect(body).toHaveProperty("network_count");
    expect(body).toHaveProperty("organization");
    expect(body).not.toHaveProperty("permissions");
    expect(handle.full_name).toBe("acme/Widget");
  });

  it("adds permissions for authenticated requests", async () => {
    fake.addUser({ login: "me" });
    fake.addRepo("me", { name: "mine" });
    const { body } = await getJson("/repos/me/mine", { authorization: "Bearer t" });
    expect(body.permissions).toMatchObject({ admin: true, pull: true });
  });

  it("answers 301 to /repositories/{id} for a renamed repository", async () => {
    fake.addUser({ login: "octo" });
    const handle = fake.addRepo("octo", { name: "before" });
    fake.renameRepo("octo", "before", "after");
    const moved = await getJson("/repos/octo/before");
    expect(moved.status).toBe(301);
    const location = `${fake.url}/repositories/${handle.id}`;
    expect(header(moved.headers, "location")).toBe(location);
    expect(moved.body).toEqual({
      message: "Moved Permanently",
      url: location,
      documentation_url:
        "https://docs.github.com/rest/guides/best-practices-for-using-the-rest-api#follow-redirects",
    });
    const target = await getJson(location);
    expect(target.body).toMatchObject({ id: handle.id, name: "after", full_name: "octo/after" });
    expect((await getJson("/repos/octo/after")).body.id).toBe(handle.id);
  });

  it("answers 301 for a transferred repository and 404 once deleted", async () => {
    fake.addUser({ login: "from" });
    fake.addUser({ login: "to" });
    const handle = fake.addRepo("from", { name: "thing" });
    fake.transferRepo("from", "thing", "to");
    const moved = await get("/repos/from/thing");
    expect(moved.status).toBe(301);
    expect(header(moved.headers, "location")).toBe(`${fake.url}/repositories/${handle.id}`);
    expect((await getJson("/repos/to/thing")).body.full_name).toBe("to/thing");
    fake.deleteRepo("to", "thing");
    expect((await get("/repos/to/thing")).status).toBe(404);
    expect((await get("/repos/from/thing")).status).toBe(404);
    expect((await get(`/repositories/${handle.id}`)).status).toBe(404);
  });

  it("hides private repositories from anonymous callers", async () => {
    fake.addUser({ login: "octo" });
    fake.addRepo("octo", { name: "internal-thing", visibility: "internal" });
    expect((await get("/repos/octo/internal-thing")).status).toBe(404);
    const withToken = await getJson("/repos/octo/internal-thing", { authorization: "token t" });
    expect(withToken.body).toMatchObject({ private: true, visibility: "internal" });
  });

  it("answers GitHub's modern 404 body", async () => {
    for (const path of [
      "/users/nobody",
      "/repos/nobody/nothing",
      "/repositories/1",
      "/elsewhere",
    ]) {
      const reply = await getJson(path);
      expect(reply.status).toBe(404);
      expect(reply.body).toEqual({
        message: "Not Found",
        documentation_url: "https://docs.github.com/rest",
        status: "404",
      });
    }
  });
});

describe("conditional requests", () => {
  it("answers 304 without a body and without spending rate limit", async () => {
    fake.addUser({ login: "octo" });
    fake.addRepo("octo", { name: "cached" });
    const first = await get("/repos/octo/cached");
    const etag = header(first.headers, "etag") as string;
    expect(etag).toMatch(/^W\/"[0-9a-f]{64}"$/);
    const again = await get("/repos/octo/cached", { "if-none-match": etag });
    expect(again.status).toBe(304);
    expect(again.text).toBe("");
    expect(header(again.headers, "etag")).toBe(etag);
    expect(remaining(again)).toBe(remaining(first));
    // Weak comparison: the strong form of the same tag matches too.
    const strong = await get("/repos/octo/cached", { "if-none-match": etag.slice(2) });
    expect(strong.status).toBe(304);
    const modified = await get("/repos/octo/cached", {
      "if-modified-since": header(first.headers, "last-modified") as string,
    });
    expect(modified.status).toBe(304);
    expect(remaining(modified)).toBe(remaining(first));
  });

  it("changes the ETag and updated_at when the repository changes", async () => {
    fake.addUser({ login: "octo" });
    fake.addRepo("octo", { name: "living", stargazers_count: 1 });
    const before = await getJson("/repos/octo/living");
    fake.updateRepo("octo", "living", { stargazers_count: 2 });
    const after = await getJson("/repos/octo/living", {
      "if-none-match": header(before.headers, "etag") as string,
    });
    expect(after.status).toBe(200);
    expect(after.body.stargazers_count).toBe(2);
    expect(header(after.headers, "etag")).not.toBe(header(before.headers, "etag"));
    expect(Date.parse(after.body.updated_at as string)).toBeGreaterThan(
      Date.parse(before.body.updated_at as string),
    );
    expect(remaining(after)).toBe(remaining(before) - 1);
  });

  it("keeps answers fresh for maxAgeSeconds when started with it", async () => {
    const shortLived = await FakeGitHub.start({ maxAgeSeconds: 2 });
    try {
      shortLived.addUser({ login: "octo", repoCount: 2 });
      const page = await get(`${shortLived.url}/users/octo/repos`, { authorization: "Bearer t" });
      expect(header(page.headers, "cache-control")).toBe("private, max-age=2, s-maxage=2");
      const anonymous = await get(`${shortLived.url}/users/octo`);
      expect(header(anonymous.headers, "cache-control")).toBe("public, max-age=2, s-maxage=2");
    } finally {
      await shortLived.close();
    }
  });

  it("revalidates listing pages too", async () => {
    fake.addUser({ login: "octo", repoCount: 2 });
    const first = await get("/users/octo/repos");
    const again = await get("/users/octo/repos", {
      "if-none-match": header(first.headers, "etag") as string,
    });
    expect(again.status).toBe(304);
  });
});

describe("rate limit", () => {
  it("counts down from 60 anonymously and 5000 with a token", async () => {
    fake.addUser({ login: "octo" });
    const anonymous = await get("/users/octo");
    expect(header(anonymous.headers, "x-ratelimit-limit")).toBe("60");
    expect(remaining(anonymous)).toBe(59);
    expect(header(anonymous.headers, "x-ratelimit-used")).toBe("1");
    expect(header(anonymous.headers, "x-ratelimit-resource")).toBe("core");
    expect(header(anonymous.headers, "cache-control")).toBe("public, max-age=60, s-maxage=60");
    const authenticated = await get("/users/octo", { authorization: "Bearer t" });
    expect(header(authenticated.headers, "x-ratelimit-limit")).toBe("5000");
    expect(remaining(authenticated)).toBe(4999);
    expect(authenticated.headers.vary).toEqual([
      "Accept, Authorization, Cookie, X-GitHub-OTP",
      "Accept-Encoding, Accept, X-Requested-With",
    ]);
  });

  it("answers 403 with the rate limit message once the window is used up", async () => {
    fake.addUser({ login: "octo" });
    const reset = Math.floor(Date.now() / 1000) + 600;
    fake.setRateLimit(1, reset);
    expect((await get("/users/octo")).status).toBe(200);
    const limited = await getJson("/users/octo");
    expect(limited.status).toBe(403);
    expect(remaining(limited)).toBe(0);
    expect(header(limited.headers, "x-ratelimit-reset")).toBe(String(reset));
    expect(limited.body.message).toMatch(
      /^API rate limit exceeded for 127\.0\.0\.1\. \(But here's the good news/,
    );
    expect(limited.body.documentation_url).toBe(
      "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting",
    );
  });

  it("starts a fresh window once the reset time has passed", async () => {
    fake.addUser({ login: "octo" });
    fake.setRateLimit(0, Math.floor(Date.now() / 1000) - 1);
    const reply = await get("/users/octo");
    expect(reply.status).toBe(200);
    expect(remaining(reply)).toBe(59);
  });
});

describe("faults", () => {
  beforeEach(() => {
    fake.addUser({ login: "octo", repoCount: 3 });
  });

  it("5xx-once fails the next matching request only", async () => {
    fake.injectFault({ kind: "5xx-once", path: "/users/octo" });
    expect((await get("/users/octo/repos")).status).toBe(200);
    expect((await get("/users/octo")).status).toBe(502);
    expect((await get("/users/octo")).status).toBe(200);
  });

  it("5xx-always fails every matching request with the given status, `times` bounding it", async () => {
    fake.injectFault({ kind: "5xx-always", path: /^\/users\//, status: 503, times: 2 });
    expect((await get("/users/octo")).status).toBe(503);
    expect((await get("/users/octo/repos")).status).toBe(503);
    expect((await get("/users/octo")).status).toBe(200);
    fake.injectFault({ kind: "5xx-always", status: 500 });
    expect((await get("/users/octo")).status).toBe(500);
    fake.clearFaults();
    expect((await get("/users/octo")).status).toBe(200);
  });

  it("hang never answers, and close() still returns", async () => {
    fake.injectFault({ kind: "hang" });
    await expect(
      request(`${fake.url}/users/octo`, { signal: AbortSignal.timeout(150) }),
    ).rejects.toThrow();
    const hung = request(`${fake.url}/users/octo`).then(
      () => "answered",
      () => "failed",
    );
    // close() must end a request that has arrived, so wait for it to arrive.
    await vi.waitFor(() => expect(fake.requests).toHaveLength(2));
    await fake.close();
    expect(await hung).toBe("failed");
    expect(fake.requests.map((r) => r.status)).toEqual([0, 0]);
  });

  it("reset drops the connection without an answer", async () => {
    fake.injectFault({ kind: "reset", path: "/users/octo", times: 1 });
    await expect(get("/users/octo")).rejects.toThrow();
    expect((await get("/users/octo")).status).toBe(200);
    expect(fake.requests.map((r) => r.status)).toEqual([0, 200]);
  });

  it("truncated declares more body than it sends", async () => {
    fake.injectFault({ kind: "truncated", times: 1 });
    const response = await request(`${fake.url}/users/octo/repos`);
    expect(response.statusCode).toBe(200);
    await expect(response.body.text()).rejects.toThrow();
    expect((await get("/users/octo/repos")).status).toBe(200);
  });

  it("malformed answers 200 with a body that is not JSON, or the body given", async () => {
    fake.injectFault({ kind: "malformed", times: 1 });
    const broken = await get("/users/octo");
    expect(broken.status).toBe(200);
    expect(() => JSON.parse(broken.text)).toThrow();
    fake.injectFault({ kind: "malformed", times: 1, body: '{"login": 42}' });
    expect(JSON.parse((await get("/users/octo")).text)).toEqual({ login: 42 });
  });

  it("rate-limit answers 403 with remaining 0 and a reset time", async () => {
    fake.injectFault({ kind: "rate-limit", retryAfterSeconds: 30 });
    const reply = await getJson("/users/octo");
    expect(reply.status).toBe(403);
    expect(remaining(reply)).toBe(0);
    const reset = Number(header(reply.headers, "x-ratelimit-reset"));
    expect(reset - Math.floor(Date.now() / 1000)).toBeGreaterThanOrEqual(29);
    expect(String(reply.body.message)).toContain("API rate limit exceeded");
  });

  it("secondary-rate-limit answers 403 with Retry-After", async () => {
    fake.injectFault({ kind: "secondary-rate-limit", retryAfterSeconds: 7 });
    const reply = await getJson("/users/octo");
    expect(reply.status).toBe(403);
    expect(header(reply.headers, "retry-after")).toBe("7");
    expect(remaining(reply)).toBeGreaterThan(0);
    expect(String(reply.body.message)).toMatch(/^You have exceeded a secondary rate limit/);
    expect(String(reply.body.message)).toContain(header(reply.headers, "x-github-request-id"));
  });

  it("redirect-loop answers 301 to the same URL forever", async () => {
    fake.injectFault({ kind: "redirect-loop", path: "/repos/octo/loop" });
    for (let hop = 0; hop < 3; hop++) {
      const reply = await get("/repos/octo/loop?x=1");
      expect(reply.status).toBe(301);
      expect(header(reply.headers, "location")).toBe(`${fake.url}/repos/octo/loop?x=1`);
    }
  });

  it("applies `probability` from the seed, the same way on every run", async () => {
    const outcomes = async (target: FakeGitHub) => {
      target.addUser({ login: "dice" });
      target.injectFault({ kind: "5xx-always", probability: 0.5 });
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++) {
        statuses.push((await request(`${target.url}/users/dice`)).statusCode);
      }
      return statuses;
    };
    const other = await FakeGitHub.start({ seed: 42 });
    try {
      const first = await outcomes(other);
      const second = await outcomes(fake);
      expect(first).toEqual(second);
      expect(new Set(first)).toEqual(new Set([200, 502]));
    } finally {
      await other.close();
    }
  });
});

describe("the harness", () => {
  it("records every request with its status, and resets the record", async () => {
    fake.addUser({ login: "octo" });
    await get("/users/octo?x=1", { "x-test": "yes" });
    await get("/users/ghost");
    expect(fake.requests).toMatchObject([
      { method: "GET", path: "/users/octo?x=1", status: 200, headers: { "x-test": "yes" } },
      { method: "GET", path: "/users/ghost", status: 404 },
    ]);
    fake.resetRequests();
    expect(fake.requests).toEqual([]);
  });

  it("waits latencyMs before answering", async () => {
    fake.addUser({ login: "octo" });
    fake.latencyMs = 120;
    const started = performance.now();
    await get("/users/octo");
    expect(performance.now() - started).toBeGreaterThanOrEqual(100);
  });

  it("generates the same data for the same seed", async () => {
    const other = await FakeGitHub.start({ seed: 42 });
    try {
      fake.addUser({ login: "twin", repoCount: 20 });
      other.addUser({ login: "twin", repoCount: 20 });
      const mine = (await get("/users/twin/repos?per_page=100")).text.replaceAll(fake.url, "");
      const response = await request(`${other.url}/users/twin/repos?per_page=100`);
      const theirs = (await response.body.text()).replaceAll(other.url, "");
      expect(theirs).toBe(mine);
    } finally {
      await other.close();
    }
  });

  it("refuses duplicate logins and names", () => {
    fake.addUser({ login: "octo" });
    expect(() => fake.addUser({ login: "OCTO" })).toThrow(/taken/);
    fake.addRepo("octo", { name: "x" });
    expect(() => fake.addRepo("octo", { name: "X" })).toThrow(/exists/);
    expect(() => fake.addRepo("ghost", { name: "x" })).toThrow(/no user/);
  });
});
