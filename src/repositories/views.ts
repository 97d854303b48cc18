import type { ListedRepository, RepositoryRecord } from "../db/repository-store.js";
import type { GitHubRepository } from "../github/schemas.js";
import type { RepositoryDetails, RepositorySummary } from "../http/schemas/repositories.js";

export type {
  RepositoryDetails,
  RepositoryListing,
  RepositorySummary,
} from "../http/schemas/repositories.js";

/** GitHub's `visibility`; old answers lack it and only say `private`. */
export function accessOf(repository: Pick<GitHubRepository, "visibility" | "private">): string {
  return repository.visibility ?? (repository.private ? "private" : "public");
}

/**
 * Sorts by name case-insensitively in code-unit order: the same order as the local query's
 * `lower(name) COLLATE "C"`, so both sources list a user's repositories identically.
 */
export function byName(a: { name: string }, b: { name: string }): number {
  const left = a.name.toLowerCase();
  const right = b.name.toLowerCase();
  return left < right ? -1 : left > right ? 1 : 0;
}

export function summaryFromGitHub(repository: GitHubRepository): RepositorySummary {
  return {
    id: repository.id,
    name: repository.name,
    full_name: repository.full_name,
    url: repository.html_url,
    access: accessOf(repository),
    created_at: repository.created_at,
    updated_at: repository.updated_at,
    size: repository.size ?? 0,
    stars: repository.stargazers_count ?? 0,
  };
}

export function detailsFromGitHub(repository: GitHubRepository, saved: boolean): RepositoryDetails {
  // Written out rather than spread from summaryFromGitHub: the spread copied the summary into a
  // slow dictionary-mode object, a tenth of a repeated details request.
  return {
    id: repository.id,
    name: repository.name,
    full_name: repository.full_name,
    url: repository.html_url,
    access: accessOf(repository),
    created_at: repository.created_at,
    updated_at: repository.updated_at,
    size: repository.size ?? 0,
    stars: repository.stargazers_count ?? 0,
    owner: { id: repository.owner.id, username: repository.owner.login },
    watchers: repository.subscribers_count ?? 0,
    saved,
  };
}

export function summaryFromListed(record: ListedRepository): RepositorySummary {
  return {
    id: record.id,
    name: record.name,
    full_name: record.fullName,
    url: record.htmlUrl,
    access: record.visibility,
    created_at: record.createdAt,
    updated_at: record.updatedAt,
    size: record.size,
    stars: record.stars,
    synced_at: record.syncedAt,
  };
}

export function recordFromGitHub(repository: GitHubRepository): RepositoryRecord {
  const date = (value: string | null) => (value === null ? null : new Date(value));
  return {
    id: repository.id,
    name: repository.name,
    fullName: repository.full_name,
    htmlUrl: repository.html_url,
    visibility: accessOf(repository),
    createdAt: date(repository.created_at),
    updatedAt: date(repository.updated_at),
    size: repository.size ?? 0,
    stars: repository.stargazers_count ?? 0,
    // Listings carry no subscribers_count: unknown until a details save (API.md, Persistence).
    watchers: repository.subscribers_count ?? null,
  };
}
