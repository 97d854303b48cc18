import type { ListingVersion, RepositoryStore } from "../db/repository-store.js";
import type { GitHubClient } from "../github/client.js";
import { GitHubNotFoundError } from "../github/errors.js";
import {
  accessOf,
  byName,
  detailsFromGitHub,
  type RepositoryDetails,
  type RepositoryListing,
  recordFromGitHub,
  summaryFromGitHub,
  summaryFromListed,
} from "./views.js";

/** Nothing is saved locally for the requested user. */
export class NotSavedError extends Error {}

export interface RepositoryServiceOptions {
  github: GitHubClient;
  store: RepositoryStore;
  /** Whether non-public repositories may be shown; see ALLOW_PRIVATE_REPOS. */
  allowPrivateRepos: boolean;
}

/** The use cases behind the /repositories endpoints, independent of HTTP. */
export class RepositoryService {
  constructor(private readonly options: RepositoryServiceOptions) {}

  /**
   * The listing as GitHub answers it now, and the version of GitHub's answers it was built
   * from. Given the version of a listing the caller already holds, "unchanged" when GitHub's
   * answers are still those.
   */
  async listFromGitHub(
    username: string,
    held?: string,
    signal?: AbortSignal,
  ): Promise<{ listing: RepositoryListing; version: string | undefined } | "unchanged"> {
    const fetched = await this.options.github.listRepositories(username, signal);
    if (held !== undefined && fetched.version === held) return "unchanged";
    return {
      listing: {
        user_id: fetched.user.id,
        username: fetched.user.login,
        source: "github",
        repositories: fetched.repositories
          .filter((repository) => this.mayShow(accessOf(repository)))
          .map(summaryFromGitHub)
          .sort(byName),
      },
      version: fetched.version,
    };
  }

  /**
   * The saved listing and the version it was read at. Given the version of a listing the caller
   * already holds, "unchanged" when that is still the current one.
   */
  async listFromLocal(
    username: string,
    held?: ListingVersion,
  ): Promise<{ listing: RepositoryListing; version: ListingVersion } | "unchanged"> {
    const saved = await this.options.store.findListing(username, held);
    if (!saved) throw new NotSavedError(`Nothing is saved for user "${username}"`);
    if (saved === "unchanged") return saved;
    return {
      listing: {
        user_id: saved.user.id,
        username: saved.user.login,
        source: "local",
        repositories: saved.repositories
          .filter((repository) => this.mayShow(repository.visibility))
          .map(summaryFromListed),
      },
      version: saved.version,
    };
  }

  async getDetails(owner: string, name: string, save: boolean): Promise<RepositoryDetails> {
    const repository = await this.options.github.getRepository(owner, name);
    // The server's token may see private repositories; callers are anonymous, so a repository
    // they may not see is answered exactly like one that does not exist.
    if (!this.mayShow(accessOf(repository))) {
      throw new GitHubNotFoundError(`GitHub has no repository "${owner}/${name}"`);
    }
    if (!save) return detailsFromGitHub(repository, false);
    await this.options.store.saveRepository(
      {
        id: repository.owner.id,
        login: repository.owner.login,
        type: repository.owner.type ?? "User",
        htmlUrl: repository.owner.html_url ?? `https://github.com/${repository.owner.login}`,
      },
      recordFromGitHub(repository),
    );
    return detailsFromGitHub(repository, true);
  }

  private mayShow(access: string): boolean {
    return access === "public" || this.options.allowPrivateRepos;
  }
}
