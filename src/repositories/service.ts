import type { ListingVersion, OwnerRecord, RepositoryStore } from "../db/repository-store.js";
import type { GitHubClient, GitHubListing } from "../github/client.js";
import { GitHubNotFoundError } from "../github/errors.js";
import type { GitHubRepository, GitHubUser } from "../github/schemas.js";
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

/** An account as it is saved; GitHub's older answers may lack its type and page. */
function ownerOf(account: Pick<GitHubUser, "id" | "login" | "type" | "html_url">): OwnerRecord {
  return {
    id: account.id,
    login: account.login,
    type: account.type ?? "User",
    htmlUrl: account.html_url ?? `https://github.com/${account.login}`,
  };
}

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
      listing: this.listingOf(fetched.user, this.shown(fetched), false),
      version: fetched.version,
    };
  }

  /**
   * The listing as GitHub answers it now, once the whole account is saved from it: read every
   * page first, so a page that fails saves nothing.
   */
  async saveFromGitHub(username: string, signal?: AbortSignal): Promise<RepositoryListing> {
    const fetched = await this.options.github.listRepositories(username, signal);
    const shown = this.shown(fetched);
    await this.options.store.saveListing(ownerOf(fetched.user), shown.map(recordFromGitHub));
    return this.listingOf(fetched.user, shown, true);
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
        synced_at: saved.user.listedAt,
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
      ownerOf(repository.owner),
      recordFromGitHub(repository),
    );
    return detailsFromGitHub(repository, true);
  }

  /**
   * Saves an account whole again, found by its GitHub id so that a rename is followed; an
   * account GitHub no longer has is removed with its repositories.
   */
  async refreshAccount(id: number, signal?: AbortSignal): Promise<"saved" | "removed"> {
    let user: GitHubUser;
    try {
      user = await this.options.github.getUserById(id, signal);
    } catch (error) {
      if (!(error instanceof GitHubNotFoundError)) throw error;
      await this.options.store.removeAccount(id);
      return "removed";
    }
    await this.saveFromGitHub(user.login, signal);
    return "saved";
  }

  /**
   * Saves a repository again, found by its GitHub id so that a rename or a transfer is
   * followed; one GitHub no longer has, or no longer shows to callers, is removed.
   */
  async refreshRepository(id: number, signal?: AbortSignal): Promise<"saved" | "removed"> {
    let repository: GitHubRepository | undefined;
    try {
      repository = await this.options.github.getRepositoryById(id, signal);
    } catch (error) {
      if (!(error instanceof GitHubNotFoundError)) throw error;
    }
    if (repository === undefined || !this.mayShow(accessOf(repository))) {
      await this.options.store.removeRepository(id);
      return "removed";
    }
    await this.options.store.saveRepository(
      ownerOf(repository.owner),
      recordFromGitHub(repository),
    );
    return "saved";
  }

  /** The repositories of a listing from GitHub that callers may see. */
  private shown(fetched: GitHubListing): GitHubRepository[] {
    return fetched.repositories.filter((repository) => this.mayShow(accessOf(repository)));
  }

  private listingOf(
    user: GitHubUser,
    shown: GitHubRepository[],
    saved: boolean,
  ): RepositoryListing {
    return {
      user_id: user.id,
      username: user.login,
      source: "github",
      saved,
      repositories: shown.map(summaryFromGitHub).sort(byName),
    };
  }

  private mayShow(access: string): boolean {
    return access === "public" || this.options.allowPrivateRepos;
  }
}
