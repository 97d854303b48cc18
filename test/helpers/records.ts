import type { OwnerRecord, RepositoryRecord } from "../../src/db/repository-store.js";

/** An account as the store saves it. */
export function owner(id: number, login: string): OwnerRecord {
  return { id, login, type: "User", htmlUrl: `https://github.com/${login}` };
}

/** A public repository as a details save gives it (watchers known); `overrides` change it. */
export function repository(
  id: number,
  ownerLogin: string,
  name: string,
  overrides: Partial<RepositoryRecord> = {},
): RepositoryRecord {
  return {
    id,
    name,
    fullName: `${ownerLogin}/${name}`,
    htmlUrl: `https://github.com/${ownerLogin}/${name}`,
    visibility: "public",
    createdAt: new Date("2011-01-26T19:01:12Z"),
    updatedAt: new Date("2011-01-26T19:14:43Z"),
    size: 108,
    stars: 80,
    watchers: 42,
    ...overrides,
  };
}
