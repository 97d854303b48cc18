import Type, { type Static } from "typebox";
import { BOOLEAN_WORD_PATTERN } from "../../config/boolean-words.js";

/**
 * RFC 9457 problem details, the body of every error answer. Registered once with
 * `app.addSchema` (src/app.ts) and referred to by `ProblemRef`, so the OpenAPI document has
 * one `#/components/schemas/Problem` that every error answer points at.
 */
export const Problem = Type.Object(
  {
    type: Type.String({
      description: "A stable URN naming the kind of problem (docs/api.md lists them)",
      examples: ["urn:problem:not-found"],
    }),
    title: Type.String({ description: "A short, fixed summary of the kind" }),
    status: Type.Integer({ description: "The HTTP status code of the answer" }),
    detail: Type.String({ description: "What went wrong here, and what to do next" }),
    instance: Type.Optional(Type.String({ description: "The path of the request" })),
  },
  { $id: "Problem", title: "Problem", description: "RFC 9457 problem details" },
);

export type Problem = Static<typeof Problem>;

const ProblemRef = Type.Unsafe<Problem>({ $ref: "Problem#" });

/** The media type every error is sent as (src/http/problem.ts, sendProblem). */
export const PROBLEM_MEDIA_TYPE = "application/problem+json";

/**
 * An error answer's response schema: problem details under their own media type, so the
 * serialiser picks it for problem replies and the document declares what is really sent.
 * `examples` are real answers (from the fake GitHub the tests use), one per kind of problem.
 */
export function problemResponse(
  description: string,
  examples: Record<string, Problem>,
  headers?: Record<string, { type: string; description: string }>,
) {
  return {
    description,
    ...(headers === undefined ? {} : { headers }),
    content: {
      [PROBLEM_MEDIA_TYPE]: {
        schema: ProblemRef,
        examples: Object.fromEntries(
          Object.entries(examples).map(([name, value]) => [name, { value }]),
        ),
      },
    },
  };
}

const RETRY_AFTER = {
  "retry-after": { type: "integer", description: "Seconds to wait before asking again" },
};

// Old GitHub accounts may start or end with a hyphen or repeat it, so only the alphabet and the
// length are checked.
const USERNAME_PATTERN = "^[A-Za-z0-9-]{1,39}$";
const REPOSITORY_NAME_PATTERN = "^(?!\\.\\.?$)[A-Za-z0-9._-]{1,100}$";

export const Username = Type.String({
  pattern: USERNAME_PATTERN,
  description: "A GitHub login, case-insensitive: 1 to 39 of A-Z a-z 0-9 -",
  examples: ["octocat"],
});

export const RepositoryName = Type.String({
  pattern: REPOSITORY_NAME_PATTERN,
  description: "A repository name: 1 to 100 of A-Z a-z 0-9 . _ -, but not . or ..",
  examples: ["Hello-World"],
});

/**
 * A boolean in the query string. The wire takes any of API.md's words (true/false, 1/0,
 * yes/no, on/off, any letter case), so validation is this pattern; the OpenAPI document shows
 * it as a boolean instead (`documentedBoolean`, applied by src/http/openapi.ts).
 */
export const BooleanWord = (description: string) =>
  Type.String({ pattern: BOOLEAN_WORD_PATTERN, description });

/**
 * What the OpenAPI document says of a boolean word: a boolean offered `false` first, which
 * Swagger UI prefills, so trying an operation out never saves or reads the local copy unasked.
 * An optional one defaults to `false` (as the service does); a required one has `false` as its
 * example. The description names the other words the service takes.
 */
export function documentedBoolean(schema: { description?: string }, required: boolean) {
  const said = (schema.description ?? "").replace(/\.?$/, ". ");
  const description = `${said}Also takes 1/0, yes/no, on/off, in any letter case.`;
  return {
    type: "boolean",
    enum: [false, true],
    ...(required ? { example: false } : { default: false }),
    description,
  };
}

/** What a caller should send instead, per parameter, for the `detail` of a 400. */
export const PARAMETER_HINTS: Record<string, string> = {
  username: "a GitHub login of 1 to 39 characters from A-Z, a-z, 0-9 and '-'",
  owner: "a GitHub login of 1 to 39 characters from A-Z, a-z, 0-9 and '-'",
  name: "a repository name of 1 to 100 characters from A-Z, a-z, 0-9, '.', '_' and '-' (not '.' or '..')",
  from_local: "one of true/false, 1/0, yes/no, on/off (any letter case)",
  save_data: "one of true/false, 1/0, yes/no, on/off (any letter case)",
};

const problem = (
  type: string,
  title: string,
  status: number,
  detail: string,
  instance: string,
) => ({
  type: `urn:problem:${type}`,
  title,
  status,
  detail,
  instance,
});

const BUSY = problem(
  "service-busy",
  "The service is busy",
  503,
  "The service is busy: 2 listings are being fetched from GitHub and 100 are waiting. Retry after 2 seconds.",
  "/repositories/",
);

const DATABASE_UNAVAILABLE = problem(
  "database-unavailable",
  "Database unavailable",
  503,
  "The database is unreachable. Retry after 5 seconds.",
  "/repositories/",
);

/** The error answers of the repositories routes, each with real examples. */
export const problemResponses = {
  400: problemResponse("A parameter is missing, malformed or repeated; the detail names it", {
    malformed: problem(
      "invalid-parameter",
      "Invalid request parameter",
      400,
      `Query parameter "save_data" is malformed. Send save_data as one of true/false, 1/0, yes/no, on/off (any letter case).`,
      "/repositories/octocat/Hello-World",
    ),
  }),
  404: problemResponse("GitHub has no such user or repository, or nothing is saved for the user", {
    "not-found": problem(
      "not-found",
      "Not found",
      404,
      `GitHub has no user "ghost". Check the spelling of the user and repository names.`,
      "/repositories/",
    ),
  }),
  502: problemResponse("GitHub failed, after retries", {
    "bad-gateway": problem(
      "github-bad-gateway",
      "GitHub failed",
      502,
      "GitHub answered 502 after retries. Retry later.",
      "/repositories/",
    ),
  }),
  503: problemResponse(
    "GitHub's rate limit is used up, the service is busy, or the database is unavailable",
    {
      "rate-limited": problem(
        "github-rate-limited",
        "GitHub rate limit used up",
        503,
        "GitHub's rate limit is used up. Retry after 1800 seconds.",
        "/repositories/",
      ),
      busy: BUSY,
      "database-unavailable": DATABASE_UNAVAILABLE,
    },
    RETRY_AFTER,
  ),
  504: problemResponse("GitHub did not answer in time", {
    timeout: problem(
      "github-timeout",
      "GitHub did not answer in time",
      504,
      "GitHub did not answer within 5000 ms. Retry later.",
      "/repositories/",
    ),
  }),
};

/** /ready's answer when the database does not answer. */
export const notReadyResponse = problemResponse(
  "The database does not answer",
  { "database-unavailable": { ...DATABASE_UNAVAILABLE, instance: "/ready" } },
  RETRY_AFTER,
);
