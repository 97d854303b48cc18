import Type, { type Static } from "typebox";
import { BooleanWord, problemResponses, RepositoryName, Username } from "./common.js";

// OpenAPI 3.0's `nullable` rather than a union: the compiled serialiser resolves an anyOf by
// validating every value against each branch, 2,000 date checks per 1,000-repository listing.
const Timestamp = Type.Unsafe<string | null>({
  type: "string",
  format: "date-time",
  nullable: true,
  description: "ISO 8601 in UTC, as GitHub gives it",
});

const summaryFields = {
  id: Type.Integer({ description: "GitHub's repository id" }),
  name: Type.String(),
  full_name: Type.String({ description: "owner/name" }),
  url: Type.String({ description: "The repository's page on github.com (GitHub's html_url)" }),
  access: Type.String({ description: "GitHub's visibility: public, private or internal" }),
  created_at: Timestamp,
  updated_at: Timestamp,
  size: Type.Integer({ description: "Size in KB, as GitHub reports it" }),
  stars: Type.Integer({ description: "GitHub's stargazers_count" }),
};

export const RepositorySummary = Type.Object({
  ...summaryFields,
  synced_at: Type.Optional(
    Type.String({
      format: "date-time",
      description: "Local answers only: when this repository was last written from GitHub",
    }),
  ),
});

const HELLO_WORLD = {
  id: 1296269,
  name: "Hello-World",
  full_name: "octocat/Hello-World",
  url: "https://github.com/octocat/Hello-World",
  access: "public",
  created_at: "2011-01-26T19:01:12Z",
  updated_at: "2011-01-26T19:14:43Z",
  size: 108,
  stars: 80,
};

/** The listing's example repository as the details routes answer it, owner and watchers added. */
function detailsExample({ id, name, full_name, ...place }: typeof HELLO_WORLD) {
  return {
    id,
    name,
    full_name,
    owner: { id: 583231, username: "octocat" },
    ...place,
    watchers: 42,
    saved: false,
  };
}

const LISTING_FROM_GITHUB = {
  user_id: 583231,
  username: "octocat",
  source: "github",
  saved: true,
  repositories: [HELLO_WORLD],
};

const LISTING_FROM_LOCAL = {
  user_id: 583231,
  username: "octocat",
  source: "local",
  synced_at: "2026-12-07T15:30:02Z",
  repositories: [{ ...HELLO_WORLD, synced_at: "2026-12-07T15:30:02Z" }],
};

// One object for both sources rather than a union, for the serialiser's sake (see Timestamp);
// `saved` is in every answer from GitHub, `synced_at` in every answer from the local copy.
export const RepositoryListing = Type.Object(
  {
    user_id: Type.Integer({ description: "GitHub's id of the account" }),
    username: Type.String({ description: "GitHub's spelling of the login" }),
    source: Type.Union([Type.Literal("github"), Type.Literal("local")]),
    saved: Type.Optional(
      Type.Boolean({
        description: "Answers from GitHub only: whether this listing was written to the database",
      }),
    ),
    synced_at: Type.Optional(
      Type.Unsafe<string | null>({
        type: "string",
        format: "date-time",
        nullable: true,
        description:
          "Answers from the local copy only: when the account was last saved whole; null when only single repositories of it were saved",
      }),
    ),
    repositories: Type.Array(RepositorySummary, {
      description: "Every repository, sorted by name case-insensitively",
    }),
  },
  {
    description: "A user's repositories, from GitHub or from the local database",
    examples: [LISTING_FROM_GITHUB, LISTING_FROM_LOCAL],
  },
);

// Property order is answer order (the compiled serialiser follows the schema): the owner comes
// right after the names, as in API.md.
const { id, name, full_name, ...placeFields } = summaryFields;

export const RepositoryDetails = Type.Object(
  {
    id,
    name,
    full_name,
    owner: Type.Object({ id: Type.Integer(), username: Type.String() }),
    ...placeFields,
    watchers: Type.Integer({ description: "GitHub's subscribers_count: people watching" }),
    saved: Type.Boolean({ description: "Whether this answer was written to the database" }),
  },
  {
    description: "One repository's details, from GitHub",
    examples: [detailsExample(HELLO_WORLD)],
  },
);

export const listRepositoriesSchema = {
  operationId: "listRepositories",
  summary: "List a user's or organisation's public repositories",
  description:
    "Every repository of the account, sorted by name. From GitHub by default (every page, cached as GitHub's Cache-Control allows); with save_data=true the whole account is saved first; with from_local=true it is read from the local copy instead (404 not-saved when nothing is). A trailing slash does not matter: /repositories/?username=octocat is the same request.",
  tags: ["repositories"],
  querystring: Type.Object({
    username: Username,
    from_local: Type.Optional(
      BooleanWord("Read the local database instead of GitHub (default false)"),
    ),
    save_data: Type.Optional(
      BooleanWord(
        "Save the whole account (the owner and every listed repository, removing those GitHub no longer lists) before answering (default false); not with from_local=true",
      ),
    ),
  }),
  response: { 200: RepositoryListing, ...problemResponses },
};

export type RepositorySummary = Static<typeof RepositorySummary>;
export type RepositoryListing = Static<typeof RepositoryListing>;
export type RepositoryDetails = Static<typeof RepositoryDetails>;

const saveData = BooleanWord("Save the owner and the repository before answering (required)");

export const repositoryByOwnerSchema = {
  operationId: "getRepository",
  summary: "One repository's details",
  description:
    "The repository from GitHub, with its owner and watchers. With save_data=true the owner and the repository are saved first, and saved is true.",
  tags: ["repositories"],
  params: Type.Object({ owner: Username, name: RepositoryName }),
  querystring: Type.Object({ save_data: saveData }),
  response: { 200: RepositoryDetails, ...problemResponses },
};

export const repositoryByNameSchema = {
  operationId: "getRepositoryByName",
  summary: "One repository's details (the original brief's path; username names the owner)",
  description:
    "The same answer as /repositories/{owner}/{name}, with the owner given as username; without username the answer is a 400 that names both forms to use.",
  tags: ["repositories"],
  params: Type.Object({ name: RepositoryName }),
  querystring: Type.Object({
    username: Type.Optional({ ...Username, description: "The owner's login (required)" }),
    save_data: saveData,
  }),
  response: { 200: RepositoryDetails, ...problemResponses },
};
