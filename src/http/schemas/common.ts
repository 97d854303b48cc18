import Type from "typebox";
import { BOOLEAN_WORD_PATTERN } from "../../config/boolean-words.js";

/** RFC 9457 problem details, the body of every error answer. */
export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    instance: Type.Optional(Type.String()),
  },
  { description: "RFC 9457 problem details" },
);

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

export const BooleanWord = (description: string) =>
  Type.String({ pattern: BOOLEAN_WORD_PATTERN, description, examples: ["true", "false"] });

/** What a caller should send instead, per parameter, for the `detail` of a 400. */
export const PARAMETER_HINTS: Record<string, string> = {
  username: "a GitHub login of 1 to 39 characters from A-Z, a-z, 0-9 and '-'",
  owner: "a GitHub login of 1 to 39 characters from A-Z, a-z, 0-9 and '-'",
  name: "a repository name of 1 to 100 characters from A-Z, a-z, 0-9, '.', '_' and '-' (not '.' or '..')",
  from_local: "one of true/false, 1/0, yes/no, on/off (any letter case)",
  save_data: "one of true/false, 1/0, yes/no, on/off (any letter case)",
};

export const problemResponses = {
  400: Problem,
  404: Problem,
  502: Problem,
  503: Problem,
  504: Problem,
};
