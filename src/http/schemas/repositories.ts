import Type from "typebox";
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

export const RepositorySummary = Type.Object(summaryFields);

export const RepositoryListing = Type.Object(
  {
    user_id: Type.Integer({ description: "GitHub's id of the account" }),
    username: Type.String({ description: "GitHub's spelling of the login" }),
    source: Type.Union([Type.Literal("github"), Type.Literal("local")]),
    repositories: Type.Array(RepositorySummary, {
      description: "Every repository, sorted by name case-insensitively",
    }),
  },
  { description: "A user's repositories, from GitHub or from the local database" },
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
  { description: "One repository's details, from GitHub" },
);

export const listRepositoriesSchema = {
  summary: "List a user's or organisation's public repositories",
  tags: ["repositories"],
  querystring: Type.Object({
    username: Username,
    from_local: Type.Optional(
      BooleanWord("Read the local database instead of GitHub (default false)"),
    ),
  }),
  response: { 200: RepositoryListing, ...problemResponses },
};

const saveData = BooleanWord("Save the owner and the repository before answering (required)");

export const repositoryByOwnerSchema = {
  summary: "One repository's details",
  tags: ["repositories"],
  params: Type.Object({ owner: Username, name: RepositoryName }),
  querystring: Type.Object({ save_data: saveData }),
  response: { 200: RepositoryDetails, ...problemResponses },
};

export const repositoryByNameSchema = {
  summary: "One repository's details (the original brief's path; username names the owner)",
  tags: ["repositories"],
  params: Type.Object({ name: RepositoryName }),
  querystring: Type.Object({
    username: Type.Optional({ ...Username, description: "The owner's login (required)" }),
    save_data: saveData,
  }),
  response: { 200: RepositoryDetails, ...problemResponses },
};
