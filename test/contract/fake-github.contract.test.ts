/**
 * Holds the fake GitHub (test/fake-github) to what GitHub really sent: recorded exchanges from
 * octokit/fixtures (2022), github3.py (2014-2021) and octokit.rb (2013-2017), and the current
 * OpenAPI description. Where the fake and a recording differ, the difference is listed here
 * with its reason; anything else that differs fails.
 */
import { request } from "undici";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { FakeGitHub } from "../fake-github/server.js";
import { openApiSchemas } from "./openapi.js";
import {
  bodyJson,
  type Exchange,
  findExchange,
  fixturesDir,
  header,
  readBetamax,
  readNock,
  readVcr,
} from "./recordings.js";

type Json = Record<string, unknown>;

fixturesDir(); // fails the file with a clear message when the recordings are missing
const schemas = openApiSchemas();

const recorded = {
  getRepository: readNock("octokit-fixtures/get-repository.raw-fixture.json"),
  paginateIssues: readNock("octokit-fixtures/paginate-issues.raw-fixture.json"),
  renameRepository: readNock("octokit-fixtures/rename-repository.raw-fixture.json"),
  branchLatestSha: readBetamax("github3.py/Branch_latest_sha.json"),
  repositoriesBy: readBetamax("github3.py/GitHub_repositories_by.json"),
  repository2017: readBetamax("github3.py/GitHub_repository.json"),
  user2014: readBetamax("github3.py/GitHub_user.json"),
  stargazers: readBetamax("github3.py/Repository_stargazers.json"),
  repository404: readVcr("octokit.rb/repository_404.json"),
};

/** The 2021 anonymous GET of an organization's repository (after its 301). */
const anonymousOrgRepository = findExchange(recorded.stargazers, "GET", "/repositories/11439734");
/** The 2022 authenticated (admin) GET of an organization's repository. */
const adminOrgRepository = findExchange(
  recorded.getRepository,
  "GET",
  "/repos/octokit-fixture-org/hello-world",
);
const listingPages = recorded.repositoriesBy;

// Keys GitHub added after a recording was made. Each must be declared by today's schema (checked
// below), so this list cannot hide a key the fake made up.
const REPOSITORY_KEYS_ADDED_SINCE_2017 = [
  "allow_forking",
  "disabled",
  "has_discussions",
  "is_template",
  "node_id",
  "temp_clone_token",
  "topics",
  "visibility",
  "web_commit_signoff_required",
];
const REPOSITORY_KEYS_ADDED_SINCE_2021 = ["has_discussions", "web_commit_signoff_required"];
const ADMIN_REPOSITORY_KEYS_ADDED_SINCE_2022 = [
  "has_discussions",
  "merge_commit_message",
  "merge_commit_title",
  "squash_merge_commit_message",
  "squash_merge_commit_title",
];
const LISTING_KEYS_ADDED_SINCE_2017 = [
  "allow_forking",
  "archived",
  "disabled",
  "has_discussions",
  "has_projects",
  "is_template",
  "license",
  "node_id",
  "topics",
  "visibility",
  "web_commit_signoff_required",
];
const USER_KEYS_ADDED_SINCE_2014 = ["node_id", "twitter_username"];
// 2013's 404 was {"message"}; today's adds these (the brief's modern shape, basic-error).
const NOT_FOUND_KEYS_ADDED_SINCE_2013 = ["documentation_url", "status"];

interface Reply {
  status: number;
  headers: Record<string, string[]>;
  text: string;
  json<T = Json>(): T;
}

let fake: FakeGitHub;
let octocatId: number;

async function call(
  path: string,
  options: { token?: string; headers?: Record<string, string> } = {},
) {
  const url = path.startsWith("http") ? path : `${fake.url}${path}`;
  const response = await request(url, {
    headers: {
      accept: "application/vnd.github+json",
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
  });
  const text = await response.body.text();
  const headers: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(response.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value : [value];
  }
  return {
    status: response.statusCode,
    headers,
    text,
    json: <T = Json>() => JSON.parse(text) as T,
  } satisfies Reply;
}

const first = (reply: Reply, name: string) => reply.headers[name]?.join(", ");

function keyDifference(fakeBody: object, recordedBody: object) {
  const fakeKeys = new Set(Object.keys(fakeBody));
  const recordedKeys = new Set(Object.keys(recordedBody));
  return {
    onlyInFake: [...fakeKeys].filter((key) => !recordedKeys.has(key)).sort(),
    onlyInRecording: [...recordedKeys].filter((key) => !fakeKeys.has(key)).sort(),
  };
}

/** `<url>; rel="x", ...` -> [rel, URL] pairs, throwing on anything else. */
function parseLink(value: string): Array<[string, URL]> {
  return value.split(", ").map((part) => {
    const match = /^<([^<>\s]+)>; rel="(first|prev|next|last)"$/.exec(part);
    if (!match?.[1] || !match[2]) throw new Error(`not GitHub's Link grammar: ${part}`);
    return [match[2], new URL(match[1])];
  });
}

const HTTP_DATE =
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;
const REQUEST_ID = /^[0-9A-F]+(:[0-9A-F]+){4}$/;

beforeAll(async () => {
  fake = await FakeGitHub.start({ seed: 2022 });
  octocatId = fake.addUser({ login: "octocat", repoCount: 250 }).id;
  fake.addUser({ login: "octokit-fixture-org", type: "Organization" });
  fake.addRepo("octokit-fixture-org", { name: "hello-world" });
  fake.addRepo("octokit-fixture-org", { name: "legacy", omitVisibility: true });
  fake.addRepo("octokit-fixture-org", { name: "hidden", private: true });
  fake.addRepo("octokit-fixture-org", { name: "tmp-scenario" });
  fake.renameRepo("octokit-fixture-org", "tmp-scenario", "tmp-scenario-newname");
  fake.addRepo("octocat", { name: "Hello-World" });
});

afterAll(async () => {
  await fake?.close();
});

beforeEach(() => {
  fake.setRateLimit(5000); // refills both windows (60 anonymous, 5000 authenticated)
});

describe("the recording readers", () => {
  it("decode nock, betamax (base64 gzip) and VCR bodies", () => {
    expect(bodyJson<Json>(adminOrgRepository).full_name).toBe("octokit-fixture-org/hello-world");
    expect(listingPages.map((page) => bodyJson<unknown[]>(page).length)).toEqual([100, 100, 3]);
    expect(bodyJson<Json>(recorded.user2014[0] as Exchange).login).toBe("sigmavirus24");
    expect(bodyJson(recorded.repository404[0] as Exchange)).toEqual({ message: "Not Found" });
    expect(adminOrgRepository.headers.vary).toHaveLength(2);
  });
});

describe("bodies against the OpenAPI schemas", () => {
  it("the schema check is not vacuous: nullable, required keys and formats are enforced", async () => {
    const body = (await call("/repos/octocat/Hello-World")).json();
    expect(schemas.errors("full-repository", { ...body, description: null })).toEqual([]);
    expect(schemas.errors("full-repository", { ...body, description: 5 })).not.toEqual([]);
    expect(schemas.errors("full-repository", { ...body, owner: { login: "x" } })).not.toEqual([]);
    expect(schemas.errors("full-repository", { ...body, created_at: "yesterday" })).not.toEqual([]);
    const { subscribers_count: _, ...withoutSubscribers } = body;
    expect(schemas.errors("full-repository", withoutSubscribers)).not.toEqual([]);
  });

  it("GET /users/{username} is a public-user, for users and organizations, with or without a token", async () => {
    for (const login of ["octocat", "octokit-fixture-org"]) {
      for (const token of [undefined, "t"]) {
        const reply = await call(`/users/${login}`, { token });
        expect(reply.status).toBe(200);
        expect(schemas.errors("public-user", reply.json())).toEqual([]);
      }
    }
  });

  it("GET /users/{username}/repos items are minimal-repositories, on every page", async () => {
    for (const token of [undefined, "t"]) {
      for (let page = 1; page <= 3; page++) {
        const reply = await call(`/users/octocat/repos?type=owner&per_page=100&page=${page}`, {
          token,
        });
        const items = reply.json<Json[]>();
        expect(items.length).toBeGreaterThan(0);
        for (const item of items) expect(schemas.errors("minimal-repository", item)).toEqual([]);
      }
    }
    const organization = await call("/users/octokit-fixture-org/repos", { token: "t" });
    for (const item of organization.json<Json[]>()) {
      expect(schemas.errors("minimal-repository", item)).toEqual([]);
    }
  });

  it("GET /repos/{owner}/{repo} and /repositories/{id} are full-repositories", async () => {
    const paths = [
      "/repos/octocat/Hello-World",
      "/repos/octokit-fixture-org/hello-world",
      "/repos/octokit-fixture-org/legacy",
      "/repos/octokit-fixture-org/hidden",
    ];
    for (const token of [undefined, "t"]) {
      for (const path of paths) {
        const reply = await call(path, { token });
        if (path.endsWith("hidden") && !token) {
          expect(reply.status).toBe(404);
          continue;
        }
        expect(reply.status).toBe(200);
        const body = reply.json();
        expect(schemas.errors("full-repository", body)).toEqual([]);
        const byId = await call(`/repositories/${body.id}`, { token });
        expect(byId.json()).toEqual(body);
      }
    }
  });

  it("404, 301 and 403 bodies are basic-errors", async () => {
    const notFound = await call("/repos/nobody/nothing");
    expect(schemas.errors("basic-error", notFound.json())).toEqual([]);
    const moved = await call("/repos/octokit-fixture-org/tmp-scenario");
    expect(schemas.errors("basic-error", moved.json())).toEqual([]);
    fake.setRateLimit(0);
    const limited = await call("/users/octocat");
    expect(limited.status).toBe(403);
    expect(schemas.errors("basic-error", limited.json())).toEqual([]);
  });
});

describe("body keys against the recordings", () => {
  it("documents only keys that today's schemas declare", () => {
    const repositoryKeys = schemas.properties("full-repository");
    for (const key of [
      ...REPOSITORY_KEYS_ADDED_SINCE_2017,
      ...REPOSITORY_KEYS_ADDED_SINCE_2021,
      ...ADMIN_REPOSITORY_KEYS_ADDED_SINCE_2022,
    ]) {
      expect(repositoryKeys).toContain(key);
    }
    const listingKeys = schemas.properties("minimal-repository");
    for (const key of LISTING_KEYS_ADDED_SINCE_2017) expect(listingKeys).toContain(key);
    const userKeys = schemas.properties("public-user");
    for (const key of USER_KEYS_ADDED_SINCE_2014) expect(userKeys).toContain(key);
    const errorKeys = schemas.properties("basic-error");
    for (const key of NOT_FOUND_KEYS_ADDED_SINCE_2013) expect(errorKeys).toContain(key);
  });

  it("an organization's repository, anonymously, has the 2021 keys plus later additions", async () => {
    const body = (await call("/repos/octokit-fixture-org/hello-world")).json();
    expect(keyDifference(body, bodyJson(anonymousOrgRepository))).toEqual({
      onlyInFake: REPOSITORY_KEYS_ADDED_SINCE_2021,
      onlyInRecording: [],
    });
  });

  it("an organization's repository, with an (admin) token, has the 2022 keys plus later additions", async () => {
    const body = (await call("/repos/octokit-fixture-org/hello-world", { token: "t" })).json();
    expect(keyDifference(body, bodyJson(adminOrgRepository))).toEqual({
      onlyInFake: ADMIN_REPOSITORY_KEYS_ADDED_SINCE_2022,
      onlyInRecording: [],
    });
    expect(Object.keys(body.permissions as Json).sort()).toEqual(
      Object.keys(bodyJson<Json>(adminOrgRepository).permissions as Json).sort(),
    );
  });

  it("a user's repository has no `organization`, like the 2017 recording of one", async () => {
    const body = (await call("/repos/octocat/Hello-World")).json();
    expect(keyDifference(body, bodyJson(recorded.repository2017[0] as Exchange))).toEqual({
      onlyInFake: REPOSITORY_KEYS_ADDED_SINCE_2017,
      onlyInRecording: [],
    });
  });

  it("nested owner, organization and license objects have the recorded keys", async () => {
    const body = (await call("/repos/octokit-fixture-org/hello-world")).json();
    const recordedBody = bodyJson<Json>(anonymousOrgRepository);
    expect(keyDifference(body.owner as Json, recordedBody.owner as Json)).toEqual({
      onlyInFake: [],
      onlyInRecording: [],
    });
    expect(keyDifference(body.organization as Json, recordedBody.organization as Json)).toEqual({
      onlyInFake: [],
      onlyInRecording: [],
    });
    const licensed = (await call("/users/octocat/repos?per_page=100"))
      .json<Json[]>()
      .find((repo) => repo.license);
    expect(Object.keys(licensed?.license as Json)).toEqual(
      Object.keys(recordedBody.license as Json),
    );
  });

  it("listing items have the 2017 keys plus later additions, and never the single-repository ones", async () => {
    const recordedItems = listingPages.flatMap((page) => bodyJson<Json[]>(page));
    const fakeItems = (await call("/users/octocat/repos?type=owner&per_page=100")).json<Json[]>();
    for (const item of fakeItems.slice(0, 5)) {
      expect(keyDifference(item, recordedItems[0] as Json)).toEqual({
        onlyInFake: LISTING_KEYS_ADDED_SINCE_2017,
        onlyInRecording: [],
      });
    }
    for (const key of ["subscribers_count", "network_count", "temp_clone_token", "organization"]) {
      expect(recordedItems.some((item) => key in item)).toBe(false);
      expect(fakeItems.some((item) => key in item)).toBe(false);
    }
    const fakeOwner = (fakeItems[0] as Json).owner as Json;
    expect(keyDifference(fakeOwner, (recordedItems[0] as Json).owner as Json)).toEqual({
      onlyInFake: ["node_id"],
      onlyInRecording: [],
    });
  });

  it("a user has the 2014 keys plus later additions, and exactly the documented example's keys", async () => {
    const body = (await call("/users/octocat")).json();
    expect(keyDifference(body, bodyJson(recorded.user2014[0] as Exchange))).toEqual({
      onlyInFake: USER_KEYS_ADDED_SINCE_2014,
      onlyInRecording: [],
    });
    // The spec's example of GET /users/{username}: hand-written by GitHub, but current.
    const example = schemas.example("public-user-default-response") as Json;
    expect(keyDifference(body, example)).toEqual({ onlyInFake: [], onlyInRecording: [] });
  });

  it("a 404 has the 2013 message plus today's documentation_url and status", async () => {
    const reply = await call("/repos/pengwynn/octokit");
    const recordedBody = bodyJson<Json>(recorded.repository404[0] as Exchange);
    expect(reply.status).toBe((recorded.repository404[0] as Exchange).status);
    expect(reply.json().message).toBe(recordedBody.message);
    expect(keyDifference(reply.json(), recordedBody)).toEqual({
      onlyInFake: NOT_FOUND_KEYS_ADDED_SINCE_2013,
      onlyInRecording: [],
    });
  });
});

describe("headers against the recordings", () => {
  it("content-type, cache-control and vary match, anonymously and with a token", async () => {
    const anonymous = await call("/repos/octokit-fixture-org/hello-world");
    const authenticated = await call("/repos/octokit-fixture-org/hello-world", { token: "t" });
    expect(first(anonymous, "content-type")).toBe(header(anonymousOrgRepository, "content-type"));
    expect(first(authenticated, "content-type")).toBe(header(adminOrgRepository, "content-type"));
    expect(first(anonymous, "cache-control")).toBe(header(anonymousOrgRepository, "cache-control"));
    expect(first(authenticated, "cache-control")).toBe(header(adminOrgRepository, "cache-control"));
    // The 2022 nock recording keeps GitHub's two Vary lines; betamax 2021 joined them into one.
    expect(authenticated.headers.vary).toEqual(adminOrgRepository.headers.vary);
    expect(first(anonymous, "vary")).toBe(header(anonymousOrgRepository, "vary"));
    for (const page of listingPages) {
      expect(header(page, "cache-control")).toBe(first(anonymous, "cache-control"));
    }
  });

  it("ETags are weak SHA-256 tags like GitHub's current ones, and change with the body", async () => {
    const weakSha256 = /^W\/"[0-9a-f]{64}"$/;
    expect(header(anonymousOrgRepository, "etag")).toMatch(weakSha256);
    for (const exchange of [...listingPages, adminOrgRepository, ...recorded.repository2017]) {
      expect(header(exchange, "etag")).toMatch(/^(W\/)?"[0-9a-f]{32,64}"$/);
    }
    const before = first(await call("/repos/octokit-fixture-org/hello-world"), "etag");
    expect(before).toMatch(weakSha256);
    fake.updateRepo("octokit-fixture-org", "hello-world", { stargazers_count: 12345 });
    const after = first(await call("/repos/octokit-fixture-org/hello-world"), "etag");
    expect(after).toMatch(weakSha256);
    expect(after).not.toBe(before);
  });

  it("Last-Modified is the repository's updated_at as an HTTP date, and absent on listings", async () => {
    const recordedBody = bodyJson<Json>(adminOrgRepository);
    expect(header(adminOrgRepository, "last-modified")).toBe(
      new Date(recordedBody.updated_at as string).toUTCString(),
    );
    const reply = await call("/repos/octokit-fixture-org/hello-world");
    expect(first(reply, "last-modified")).toMatch(HTTP_DATE);
    expect(first(reply, "last-modified")).toBe(
      new Date(reply.json().updated_at as string).toUTCString(),
    );
    expect(header(recorded.user2014[0] as Exchange, "last-modified")).toMatch(HTTP_DATE);
    expect(first(await call("/users/octocat"), "last-modified")).toMatch(HTTP_DATE);
    for (const page of listingPages) expect(header(page, "last-modified")).toBeUndefined();
    expect(first(await call("/users/octocat/repos"), "last-modified")).toBeUndefined();
  });

  it("x-ratelimit-* are all there, numeric, and add up, as in the 2022 recordings", async () => {
    const names = ["limit", "remaining", "reset", "used", "resource"].map(
      (name) => `x-ratelimit-${name}`,
    );
    const check = (get: (name: string) => string | undefined, limit: string) => {
      for (const name of names) expect(get(name)).toBeDefined();
      expect(get("x-ratelimit-limit")).toBe(limit);
      for (const name of ["limit", "remaining", "used"])
        expect(get(`x-ratelimit-${name}`)).toMatch(/^\d+$/);
      expect(get("x-ratelimit-reset")).toMatch(/^\d{10}$/);
      expect(get("x-ratelimit-resource")).toBe("core");
      expect(Number(get("x-ratelimit-used")) + Number(get("x-ratelimit-remaining"))).toBe(
        Number(limit),
      );
    };
    check((name) => header(adminOrgRepository, name), "5000");
    check((name) => header(anonymousOrgRepository, name), "60");
    const authenticated = await call("/repos/octokit-fixture-org/hello-world", { token: "t" });
    check((name) => first(authenticated, name), "5000");
    const anonymous = await call("/repos/octokit-fixture-org/hello-world");
    check((name) => first(anonymous, name), "60");
  });

  it("x-github-media-type echoes Accept like GitHub, and request ids have GitHub's form", async () => {
    expect(first(await call("/users/octocat"), "x-github-media-type")).toBe(
      header(adminOrgRepository, "x-github-media-type"),
    );
    const full = await call("/users/octocat/repos", {
      headers: { accept: "application/vnd.github.v3.full+json" },
    });
    expect(first(full, "x-github-media-type")).toBe(
      header(listingPages[0] as Exchange, "x-github-media-type"),
    );
    const preview = await call("/repos/octocat/Hello-World", {
      headers: { accept: "application/vnd.github.drax-preview+json" },
    });
    expect(first(preview, "x-github-media-type")).toBe(
      header(recorded.repository2017[0] as Exchange, "x-github-media-type"),
    );
    expect(header(adminOrgRepository, "x-github-request-id")).toMatch(REQUEST_ID);
    expect(first(full, "x-github-request-id")).toMatch(REQUEST_ID);
  });
});

describe("pagination against the recordings", () => {
  it("Link headers follow GitHub's grammar, in both recordings and in the fake", async () => {
    const recordedLinks = [...listingPages, ...recorded.paginateIssues]
      .map((exchange) => header(exchange, "link"))
      .filter((link): link is string => link !== undefined);
    expect(recordedLinks).toHaveLength(3 + 5);
    for (const link of recordedLinks) expect(() => parseLink(link)).not.toThrow();
    let next: string | undefined = "/users/octocat/repos?type=owner&per_page=100";
    while (next) {
      const reply = await call(next);
      const link = first(reply, "link") as string;
      expect(() => parseLink(link)).not.toThrow();
      next = parseLink(link).find(([rel]) => rel === "next")?.[1].href;
    }
  });

  it("rels per page position are the recordings', in today's order (paginate-issues)", async () => {
    const rels = (link: string | undefined) => parseLink(link ?? "").map(([rel]) => rel);
    const issues = recorded.paginateIssues.filter((exchange) => header(exchange, "link"));
    const expected = {
      first: rels(header(issues[0] as Exchange, "link")),
      middle: rels(header(issues[1] as Exchange, "link")),
      last: rels(header(issues.at(-1) as Exchange, "link")),
    };
    expect(expected).toEqual({
      first: ["next", "last"],
      middle: ["prev", "next", "last", "first"],
      last: ["prev", "first"],
    });
    // 2017 sent the same rels in another order (next, last, first, prev).
    expect(rels(header(listingPages[1] as Exchange, "link")).sort()).toEqual(
      [...expected.middle].sort(),
    );
    const pages = await Promise.all(
      [1, 2, 3].map((page) =>
        call(`/user/${octocatId}/repos?type=owner&per_page=100&page=${page}`),
      ),
    );
    expect(pages.map((page) => rels(first(page, "link")))).toEqual([
      expected.first,
      expected.middle,
      expected.last,
    ]);
  });

  it("links switch to /user/{id}/repos, keep the query and put page last, as GitHub_repositories_by", async () => {
    const recordedFirst = listingPages[0] as Exchange;
    const recordedOwnerId = ((bodyJson<Json[]>(recordedFirst)[0] as Json).owner as Json).id;
    const recordedUrl = new URL(recordedFirst.url);
    const recordedNext = parseLink(header(recordedFirst, "link") as string);
    for (const [, url] of recordedNext) {
      expect(url.pathname).toBe(`/user/${recordedOwnerId}/repos`);
      expect([...url.searchParams.keys()]).toEqual([...recordedUrl.searchParams.keys(), "page"]);
      expect(url.searchParams.get("per_page")).toBe(recordedUrl.searchParams.get("per_page"));
    }
    const total = listingPages.reduce((sum, page) => sum + bodyJson<unknown[]>(page).length, 0);
    expect(recordedNext.find(([rel]) => rel === "last")?.[1].searchParams.get("page")).toBe(
      String(Math.ceil(total / 100)),
    );

    const reply = await call("/users/octocat/repos?type=owner&per_page=100");
    const ownerId = ((reply.json<Json[]>()[0] as Json).owner as Json).id;
    expect(ownerId).toBe(octocatId);
    for (const [rel, url] of parseLink(first(reply, "link") as string)) {
      expect(url.origin).toBe(fake.url);
      expect(url.pathname).toBe(`/user/${ownerId}/repos`);
      expect([...url.searchParams.keys()]).toEqual(["type", "per_page", "page"]);
      expect(url.searchParams.get("page")).toBe(rel === "next" ? "2" : "3");
    }
  });

  it("pages are sorted by full_name case-insensitively, as the 2017 listing is", async () => {
    const names = (items: Json[]) => items.map((item) => String(item.full_name).toLowerCase());
    const recordedNames = names(listingPages.flatMap((page) => bodyJson<Json[]>(page)));
    expect(recordedNames).toEqual([...recordedNames].sort());
    expect(
      new Set(listingPages.flatMap((page) => bodyJson<Json[]>(page)).map((i) => i.full_name)),
    ).toContain("dstufft/AnonymousPosting");
    const fakeItems: Json[] = [];
    for (let page = 1; page <= 3; page++) {
      fakeItems.push(
        ...(await call(`/user/${octocatId}/repos?per_page=100&page=${page}`)).json<Json[]>(),
      );
    }
    expect(fakeItems).toHaveLength(251);
    const fakeNames = names(fakeItems);
    expect(fakeNames).toEqual([...fakeNames].sort());
    expect(fakeItems.some((item) => /[A-Z]/.test(String(item.name)))).toBe(true);
  });
});

describe("301 and 304 against the recordings", () => {
  it("a renamed repository answers 301 like rename-repository", async () => {
    const recordedMove = findExchange(
      recorded.renameRepository,
      "GET",
      "/repos/octokit-fixture-org/tmp-scenario-rename-repository-20220719044033126-ukeod",
    );
    expect(recordedMove.status).toBe(301);
    const recordedBody = bodyJson<Json>(recordedMove);
    const recordedLocation = new URL(header(recordedMove, "location") as string);
    expect(recordedLocation.pathname).toMatch(/^\/repositories\/\d+$/);
    expect(recordedBody.url).toBe(recordedLocation.href);

    const before = await call("/repos/octokit-fixture-org/hello-world");
    const moved = await call("/repos/octokit-fixture-org/tmp-scenario");
    expect(moved.status).toBe(301);
    const body = moved.json();
    const location = new URL(first(moved, "location") as string);
    expect(location.pathname).toMatch(/^\/repositories\/\d+$/);
    expect(body.url).toBe(location.href);
    expect(body.message).toBe(recordedBody.message);
    expect(Object.keys(body)).toEqual(Object.keys(recordedBody));
    // The brief's current URL; the 2022 recording still had https://docs.github.com/v3/#http-redirects.
    expect(String(body.documentation_url)).toMatch(/^https:\/\/docs\.github\.com\//);
    expect(first(moved, "content-type")).toBe(header(recordedMove, "content-type"));
    // Like the recording: no caching headers on a 301, GitHub's edge Vary only, and it counts.
    for (const name of ["etag", "cache-control", "last-modified"]) {
      expect(header(recordedMove, name)).toBeUndefined();
      expect(first(moved, name)).toBeUndefined();
    }
    expect(first(moved, "vary")).toBe(header(recordedMove, "vary"));
    expect(Number(first(moved, "x-ratelimit-remaining"))).toBe(
      Number(first(before, "x-ratelimit-remaining")) - 1,
    );

    const target = await call(location.href);
    expect(target.status).toBe(200);
    expect(target.json()).toMatchObject({ name: "tmp-scenario-newname" });
  });

  it("the 2021 transfer recording has the same 301 shape", () => {
    const recordedMove = findExchange(recorded.stargazers, "GET", "/repos/sigmavirus24/betamax");
    expect(recordedMove.status).toBe(301);
    expect(Object.keys(bodyJson<Json>(recordedMove))).toEqual([
      "message",
      "url",
      "documentation_url",
    ]);
    expect(new URL(header(recordedMove, "location") as string).pathname).toBe(
      "/repositories/11439734",
    );
  });

  it("If-None-Match answers 304 with no body and does not spend rate limit, like Branch_latest_sha", async () => {
    const [, recordedBefore, recordedNotModified] = recorded.branchLatestSha as [
      Exchange,
      Exchange,
      Exchange,
    ];
    expect(recordedNotModified.status).toBe(304);
    expect(recordedNotModified.body).toBe("");
    expect(header(recordedNotModified, "x-ratelimit-remaining")).toBe(
      header(recordedBefore, "x-ratelimit-remaining"),
    );

    const fresh = await call("/repos/octocat/Hello-World");
    const notModified = await call("/repos/octocat/Hello-World", {
      headers: { "if-none-match": first(fresh, "etag") as string },
    });
    expect(notModified.status).toBe(304);
    expect(notModified.text).toBe("");
    expect(first(notModified, "x-ratelimit-remaining")).toBe(first(fresh, "x-ratelimit-remaining"));
    // The validators and caching headers the recorded 304 carries, with the 200's values.
    for (const name of [
      "etag",
      "last-modified",
      "cache-control",
      "vary",
      "x-ratelimit-limit",
      "x-ratelimit-reset",
    ]) {
      expect(header(recordedNotModified, name)).toBeDefined();
      expect(first(notModified, name)).toBe(first(fresh, name));
    }
    // GitHub labelled its empty 304 application/octet-stream; the fake sends no content-type.
    expect(header(recordedNotModified, "content-type")).toBe("application/octet-stream");
    expect(first(notModified, "content-type")).toBeUndefined();
    const next = await call("/repos/octocat/Hello-World");
    expect(Number(first(next, "x-ratelimit-remaining"))).toBe(
      Number(first(fresh, "x-ratelimit-remaining")) - 1,
    );
  });
});
