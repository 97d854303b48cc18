import Type, { type Static } from "typebox";
import { Compile } from "typebox/compile";

/**
 * The parts of GitHub's documented bodies this service reads. GitHub adds fields freely, so
 * objects stay open; a body missing one of these fields is "not what the API documents" (502).
 */
const Account = Type.Object({
  id: Type.Integer({ minimum: 1 }),
  login: Type.String({ minLength: 1 }),
  type: Type.Optional(Type.String()),
  html_url: Type.Optional(Type.String()),
});

const GitHubUserSchema = Type.Object({
  id: Type.Integer({ minimum: 1 }),
  login: Type.String({ minLength: 1 }),
  type: Type.Optional(Type.String()),
  html_url: Type.Optional(Type.String()),
});

const Timestamp = Type.Union([Type.String(), Type.Null()]);

const GitHubRepositorySchema = Type.Object({
  id: Type.Integer({ minimum: 1 }),
  name: Type.String({ minLength: 1 }),
  full_name: Type.String({ minLength: 3 }),
  owner: Account,
  html_url: Type.String(),
  private: Type.Boolean(),
  visibility: Type.Optional(Type.String()),
  created_at: Timestamp,
  updated_at: Timestamp,
  size: Type.Optional(Type.Integer({ minimum: 0 })),
  stargazers_count: Type.Optional(Type.Integer({ minimum: 0 })),
  subscribers_count: Type.Optional(Type.Integer({ minimum: 0 })),
});

const GitHubRepositoryListSchema = Type.Array(GitHubRepositorySchema);

export type GitHubUser = Static<typeof GitHubUserSchema>;
export type GitHubRepository = Static<typeof GitHubRepositorySchema>;

export const userValidator = Compile(GitHubUserSchema);
export const repositoryValidator = Compile(GitHubRepositorySchema);
export const repositoryListValidator = Compile(GitHubRepositoryListSchema);
