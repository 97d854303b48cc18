import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "../helpers/harness.js";
import { rawGet } from "./raw-http.js";

const USERNAME = /^[A-Za-z0-9-]{1,39}$/;
const REPOSITORY_NAME = /^(?!\.\.?$)[A-Za-z0-9._-]{1,100}$/;
const REQUEST_BOUND_MS = 5_000;
const RUNS = 300;

/** Pieces that have broken URL handling somewhere: traversal, separators, escapes, NUL, CRLF. */
const FRAGMENTS = [
  ".",
  "..",
  "../",
  "..%2f",
  "..%5c",
  "%2e%2e",
  "%2e%2e%2f",
  "%252e%252e%252f",
  "%2F",
  "%5C",
  "\\",
  "/",
  "//",
  "%00",
  "\u0000",
  "%",
  "%zz",
  "?",
  "#",
  "&",
  "=",
  ";",
  "%0d%0a",
  "\r\n",
  " ",
  "%20",
  "+",
  "ü",
  "%C3%BC",
  "%FF",
  "%c0%ae",
  "<script>",
  "'",
  '"',
  "$%7Bjndi%7D",
  "*",
  "~",
  "-",
  "_",
  "octocat",
];

/**
 * Names a caller might send: valid ones and ones that exist on the fake (weighted up, so that
 * plenty of requests get as far as GitHub and the upstream check has something to check), and
 * everything else.
 */
const name = fc.oneof(
  { arbitrary: fc.stringMatching(/^[A-Za-z0-9-]{1,39}$/), weight: 3 },
  { arbitrary: fc.stringMatching(/^[A-Za-z0-9._-]{1,100}$/), weight: 2 },
  { arbitrary: fc.constantFrom("octocat", "OctoCat", "Hello-World", "hello-world"), weight: 3 },
  fc.string({ maxLength: 50 }),
  fc.string({ unit: "binary", maxLength: 50 }),
  fc
    .array(fc.constantFrom(...FRAGMENTS), { minLength: 1, maxLength: 8 })
    .map((parts) => parts.join("")),
  fc.integer({ min: 38, max: 2_100 }).map((length) => "a".repeat(length)),
  fc.constantFrom("", ".", "..", "-", "--", "a".repeat(39), "a".repeat(40), "b".repeat(101)),
);

const booleanWord = fc.oneof(
  { arbitrary: fc.constantFrom("true", "FALSE", "1", "0", "yes", "No", "on", "OFF"), weight: 4 },
  fc.constantFrom("", "2", "truee", "null", "t", "y"),
  name,
);

const PARAMETER_KEYS = [
  "username",
  "from_local",
  "save_data",
  "username[]",
  "save_data[]",
  "from_local[0]",
  "__proto__",
  "constructor",
  "",
];

/** How a value is put into the URL: escaped, doubly escaped, or as it is, byte for byte. */
const encoding = fc.oneof(
  { arbitrary: fc.constant(encodeURIComponent), weight: 3 },
  fc.constant((value: string) => encodeURIComponent(encodeURIComponent(value))),
  fc.constant((value: string) => value),
);

/** Extra parameters: none, or duplicates, array forms and unknown keys. */
const query = fc.oneof(
  { arbitrary: fc.constant(""), weight: 3 },
  fc
    .tuple(
      fc.array(fc.tuple(fc.constantFrom(...PARAMETER_KEYS), booleanWord), {
        minLength: 1,
        maxLength: 5,
      }),
      encoding,
    )
    .map(([pairs, encode]) => pairs.map(([key, value]) => `${key}=${encode(value)}`).join("&")),
);

/** A request target aimed at each endpoint, with hostile parts anywhere in it. */
const target = fc.oneof(
  fc
    .tuple(name, booleanWord, query, encoding, fc.constantFrom("", "/"))
    .map(
      ([user, local, extra, encode, slash]) =>
        `/repositories${slash}?username=${encode(user)}&from_local=${encode(local)}&${extra}`,
    ),
  fc
    .tuple(name, name, booleanWord, query, encoding, fc.constantFrom("", "/"))
    .map(
      ([owner, repo, save, extra, encode, slash]) =>
        `/repositories/${encode(owner)}/${encode(repo)}${slash}?save_data=${encode(save)}&${extra}`,
    ),
  fc
    .tuple(name, name, booleanWord, query, encoding)
    .map(
      ([owner, repo, save, extra, encode]) =>
        `/repositories/${encode(repo)}?username=${encode(owner)}&save_data=${encode(save)}&${extra}`,
    ),
  fc
    .tuple(fc.array(name, { minLength: 1, maxLength: 4 }), query, encoding)
    .map(([segments, extra, encode]) => `/repositories/${segments.map(encode).join("/")}?${extra}`),
);

/** The names in a path the service sent GitHub, or a reason the path is not one it may send. */
function upstreamViolation(path: string): string | undefined {
  const segments = new URL(path, "http://github.invalid").pathname.split("/").slice(1);
  let decoded: string[];
  try {
    decoded = segments.map(decodeURIComponent);
  } catch {
    return `undecodable path ${path}`;
  }
  const [root, first = "", second, third] = decoded;
  const checks: Array<[string, RegExp]> = [];
  if (root === "users" && (second === undefined || (second === "repos" && third === undefined))) {
    checks.push([first, USERNAME]);
  } else if (root === "repos" && second !== undefined && third === undefined) {
    checks.push([first, USERNAME], [second, REPOSITORY_NAME]);
  } else if (
    (root === "user" && second === "repos" && third === undefined) ||
    (root === "repositories" && second === undefined)
  ) {
    checks.push([first, /^\d+$/]);
  } else {
    return `unexpected upstream path ${path}`;
  }
  const failed = checks.find(([value, pattern]) => !pattern.test(value));
  return failed ? `${JSON.stringify(failed[0])} reached GitHub in ${path}` : undefined;
}

describe("hostile input over real HTTP", () => {
  let h: Harness;

  beforeAll(async () => {
    // A token lifts the fake's anonymous limit of 60 an hour, which would turn answers into 503s.
    h = await startHarness({ env: { GITHUB_TOKEN: "ghp_hostileInputToken" } });
    h.fake.addUser({ login: "octocat", id: 1 });
    h.fake.addRepo("octocat", { name: "Hello-World", id: 10 });
  });
  afterAll(() => h.close());

  it("never answers 5xx, never hangs, and never sends GitHub a name that fails validation", async () => {
    let checked = 0;
    await fc.assert(
      fc.asyncProperty(target, async (path) => {
        h.fake.setRateLimit(5_000);
        const answer = await rawGet(h.url, path, { timeoutMs: REQUEST_BOUND_MS });
        expect(answer.status, answer.head).toBeDefined();
        expect(answer.status, `${path}\n${answer.body}`).toBeLessThan(500);
        const sent = h.fake.requests.slice(checked);
        checked = h.fake.requests.length;
        for (const request of sent) expect(upstreamViolation(request.path)).toBeUndefined();
      }),
      { numRuns: RUNS, timeout: REQUEST_BOUND_MS + 1_000 },
    );
    // About one run in six reaches GitHub; without those the upstream check would prove nothing.
    expect(h.fake.requests.length).toBeGreaterThan(10);
  }, 120_000);

  it("answers specific hostile requests with 4xx, never 5xx", async () => {
    const targets = [
      "/repositories/..%2F..%2Fetc/passwd?save_data=true",
      "/repositories/octocat/%2e%2e?save_data=true",
      "/repositories/octocat/.?save_data=true",
      "/repositories/octocat/Hello-World%00?save_data=true",
      Buffer.from("/repositories/octocat/Hello\u0000World?save_data=true", "latin1"),
      "/repositories?username=octocat&username=hubot",
      "/repositories?username[]=octocat",
      "/repositories/octocat/Hello-World?save_data=true&save_data=false",
      `/repositories?username=${"a".repeat(40)}`,
      `/repositories/octocat/${"r".repeat(101)}?save_data=false`,
      `/repositories?username=${"x".repeat(3_000)}`,
      "/repositories?username=%E0%A4%A",
      "/repositories/%ZZ/x?save_data=1",
    ];
    for (const path of targets) {
      const answer = await rawGet(h.url, path, { timeoutMs: REQUEST_BOUND_MS });
      expect(answer.status, String(path)).toBeGreaterThanOrEqual(400);
      expect(answer.status, String(path)).toBeLessThan(500);
    }
    // Unknown parameters are ignored, prototype-polluting ones included.
    const polluted = await rawGet(h.url, "/repositories?__proto__[x]=1&username=octocat", {
      timeoutMs: REQUEST_BOUND_MS,
    });
    expect(polluted.status).toBe(200);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
});
