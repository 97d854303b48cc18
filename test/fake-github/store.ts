import type { SeededRandom } from "./random.js";
import type { FakeRepoInit, FakeUserInit } from "./types.js";

export type Visibility = "public" | "private" | "internal";

export interface License {
  key: string;
  name: string;
  spdx_id: string;
  node_id: string;
}

export interface UserRecord {
  id: number;
  login: string;
  type: "User" | "Organization";
  name: string | null;
  company: string | null;
  blog: string;
  location: string | null;
  email: string | null;
  hireable: boolean | null;
  bio: string | null;
  twitter_username: string | null;
  public_gists: number;
  followers: number;
  following: number;
  created_at: string;
  updated_at: string;
}

export interface RepoRecord {
  id: number;
  ownerId: number;
  name: string;
  private: boolean;
  visibility: Visibility;
  omitVisibility: boolean;
  description: string | null;
  fork: boolean;
  homepage: string | null;
  language: string | null;
  license: License | null;
  topics: string[];
  default_branch: string;
  size: number;
  stargazers_count: number;
  forks_count: number;
  open_issues_count: number;
  subscribers_count: number;
  has_issues: boolean;
  has_projects: boolean;
  has_downloads: boolean;
  has_wiki: boolean;
  has_pages: boolean;
  has_discussions: boolean;
  archived: boolean;
  is_template: boolean;
  created_at: string;
  updated_at: string;
  pushed_at: string;
}

export type RepoLookup =
  | { kind: "found"; repo: RepoRecord; owner: UserRecord }
  | { kind: "moved"; repoId: number };

// node_ids as GitHub encodes them, with the real ids of these licences.
const LICENSES: License[] = [
  { key: "mit", name: "MIT License", spdx_id: "MIT", node_id: "MDc6TGljZW5zZTEz" },
  {
    key: "apache-2.0",
    name: "Apache License 2.0",
    spdx_id: "Apache-2.0",
    node_id: "MDc6TGljZW5zZTI=",
  },
  {
    key: "bsd-3-clause",
    name: 'BSD 3-Clause "New" or "Revised" License',
    spdx_id: "BSD-3-Clause",
    node_id: "MDc6TGljZW5zZTU=",
  },
  {
    key: "gpl-3.0",
    name: "GNU General Public License v3.0",
    spdx_id: "GPL-3.0",
    node_id: "MDc6TGljZW5zZTk=",
  },
  { key: "other", name: "Other", spdx_id: "NOASSERTION", node_id: "MDc6TGljZW5zZTA=" },
];
const LANGUAGES = ["TypeScript", "JavaScript", "Python", "Go", "Rust", "C", "Shell", "Ruby", null];
const TOPICS = ["cli", "api", "testing", "http", "database", "web", "tooling", "docs"];
// Mixed case and punctuation, so that sorting by full_name is really case-insensitive.
const NAME_PREFIXES = [
  "repo",
  "Repo",
  "api",
  "CLI",
  "docs",
  "web.app",
  "lib_core",
  "Zeta",
  "alpha",
];
const FIRST_NAMES = ["Ada", "Grace", "Linus", "Margaret", "Ken", "Barbara", "Dennis", "Frances"];
const LAST_NAMES = ["Lovelace", "Hopper", "Torvalds", "Hamilton", "Thompson", "Liskov", "Ritchie"];
const CITIES = ["Berlin", "Lagos", "Lima", "Osaka", "Toronto", "Madison, WI", null];

const GENERATED_FROM = Date.UTC(2012, 0, 1);
const GENERATED_UNTIL = Date.UTC(2024, 11, 31);
// Changes made through the API happen after all generated dates, one minute apart.
const MUTATIONS_FROM = Date.UTC(2025, 0, 1);

/** `2017-09-15T21:43:08Z`: GitHub's timestamps have no milliseconds. */
export function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

const lower = (name: string) => name.toLowerCase();

/** Counter-based ids that step over ids a test chose itself. */
class IdSequence {
  constructor(private next: number) {}

  claim(requested: number | undefined, taken: Map<number, unknown>, what: string): number {
    if (requested !== undefined) {
      if (taken.has(requested)) throw new Error(`FakeGitHub: ${what} id ${requested} is taken`);
      return requested;
    }
    while (taken.has(this.next)) this.next++;
    return this.next++;
  }
}

/** Everything the fake knows; lookups by login and name are case-insensitive, as on GitHub. */
export class FakeStore {
  private readonly users = new Map<number, UserRecord>();
  private readonly userIdByLogin = new Map<string, number>();
  private readonly repos = new Map<number, RepoRecord>();
  private readonly repoIdByName = new Map<string, number>();
  /** Old `owner/name` (lower-cased) of renamed or transferred repositories -> repository id. */
  private readonly movedRepos = new Map<string, number>();
  private readonly userIds = new IdSequence(1001);
  private readonly repoIds = new IdSequence(200_001);
  private clock = MUTATIONS_FROM;

  constructor(private readonly random: SeededRandom) {}

  addUser(init: FakeUserInit): UserRecord {
    if (this.userIdByLogin.has(lower(init.login))) {
      throw new Error(`FakeGitHub: login ${init.login} is taken`);
    }
    const id = this.userIds.claim(init.id, this.users, "user");
    const random = this.random;
    const created = random.int(GENERATED_FROM, GENERATED_UNTIL - 86_400_000);
    const first = random.pick(FIRST_NAMES);
    const user: UserRecord = {
      id,
      login: init.login,
      type: init.type ?? "User",
      name: random.chance(0.8) ? `${first} ${random.pick(LAST_NAMES)}` : null,
      company: random.chance(0.4) ? "@acme" : null,
      blog: random.chance(0.5) ? `https://${lower(init.login)}.example.com` : "",
      location: random.pick(CITIES),
      email: random.chance(0.3) ? `${lower(init.login)}@example.com` : null,
      hireable: random.chance(0.3) ? true : null,
      bio: random.chance(0.5) ? `${first} writes software.` : null,
      twitter_username: random.chance(0.3) ? lower(init.login).replace(/[^a-z0-9_]/g, "_") : null,
      public_gists: random.skewed(200),
      followers: random.skewed(5000),
      following: random.skewed(300),
      created_at: isoSeconds(created),
      updated_at: isoSeconds(random.int(created, GENERATED_UNTIL)),
    };
    this.users.set(id, user);
    this.userIdByLogin.set(lower(user.login), id);
    for (let index = 1; index <= (init.repoCount ?? 0); index++) {
      const prefix = random.pick(NAME_PREFIXES);
      this.addRepo(user.login, { name: `${prefix}-${String(index).padStart(4, "0")}` });
    }
    return user;
  }

  addRepo(ownerLogin: string, init: FakeRepoInit): RepoRecord {
    const owner = this.requireUser(ownerLogin);
    this.assertNameFree(owner, init.name);
    const id = this.repoIds.claim(init.id, this.repos, "repository");
    const random = this.random;
    const created = random.int(GENERATED_FROM, GENERATED_UNTIL - 86_400_000);
    const updated = random.int(created, GENERATED_UNTIL);
    const stars = random.skewed(20_000);
    const repo: RepoRecord = {
      id,
      ownerId: owner.id,
      name: init.name,
      private: false,
      visibility: "public",
      omitVisibility: false,
      description: random.chance(0.75) ? `${init.name}: a ${random.pick(TOPICS)} project` : null,
      fork: random.chance(0.15),
      homepage: random.chance(0.2) ? `https://${lower(init.name)}.example.org` : null,
      language: random.pick(LANGUAGES),
      license: random.chance(0.6) ? random.pick(LICENSES) : null,
      topics: random.chance(0.4)
        ? [...new Set([random.pick(TOPICS), random.pick(TOPICS)])].sort()
        : [],
      default_branch: random.chance(0.7) ? "main" : "master",
      size: random.skewed(200_000),
      stargazers_count: stars,
      forks_count: Math.floor(stars / random.int(5, 20)),
      open_issues_count: random.skewed(150),
      subscribers_count: Math.floor(stars / random.int(10, 40)) + random.int(0, 3),
      has_issues: random.chance(0.9),
      has_projects: random.chance(0.8),
      has_downloads: true,
      has_wiki: random.chance(0.6),
      has_pages: random.chance(0.1),
      has_discussions: random.chance(0.15),
      archived: random.chance(0.05),
      is_template: random.chance(0.03),
      created_at: isoSeconds(created),
      updated_at: isoSeconds(updated),
      pushed_at: isoSeconds(random.int(created, updated)),
    };
    this.applyInit(repo, init);
    this.repos.set(id, repo);
    this.repoIdByName.set(this.nameKey(owner.id, repo.name), id);
    // A repository created under a moved name takes the name back, as on GitHub.
    this.movedRepos.delete(`${lower(owner.login)}/${lower(repo.name)}`);
    return repo;
  }

  updateRepo(ownerLogin: string, name: string, patch: Partial<FakeRepoInit>): RepoRecord {
    const { repo, owner } = this.requireRepo(ownerLogin, name);
    if (patch.id !== undefined && patch.id !== repo.id) {
      throw new Error("FakeGitHub: a repository id cannot change");
    }
    if (patch.name !== undefined && patch.name !== repo.name) {
      this.renameRepo(owner.login, repo.name, patch.name);
    }
    this.applyInit(repo, patch);
    if (patch.updated_at === undefined) this.touch(repo);
    return repo;
  }

  renameRepo(ownerLogin: string, oldName: string, newName: string): RepoRecord {
    const { repo, owner } = this.requireRepo(ownerLogin, oldName);
    if (lower(oldName) !== lower(newName)) this.assertNameFree(owner, newName);
    this.repoIdByName.delete(this.nameKey(owner.id, repo.name));
    this.movedRepos.set(`${lower(owner.login)}/${lower(repo.name)}`, repo.id);
    repo.name = newName;
    this.repoIdByName.set(this.nameKey(owner.id, newName), repo.id);
    this.movedRepos.delete(`${lower(owner.login)}/${lower(newName)}`);
    this.touch(repo);
    return repo;
  }

  transferRepo(ownerLogin: string, name: string, newOwnerLogin: string): RepoRecord {
    const { repo, owner } = this.requireRepo(ownerLogin, name);
    const newOwner = this.requireUser(newOwnerLogin);
    this.assertNameFree(newOwner, repo.name);
    this.repoIdByName.delete(this.nameKey(owner.id, repo.name));
    this.movedRepos.set(`${lower(owner.login)}/${lower(repo.name)}`, repo.id);
    repo.ownerId = newOwner.id;
    this.repoIdByName.set(this.nameKey(newOwner.id, repo.name), repo.id);
    this.movedRepos.delete(`${lower(newOwner.login)}/${lower(repo.name)}`);
    this.touch(repo);
    return repo;
  }

  /** The old login stops resolving; its repositories' old full names redirect, as on GitHub. */
  renameUser(oldLogin: string, newLogin: string): UserRecord {
    const user = this.requireUser(oldLogin);
    if (lower(oldLogin) !== lower(newLogin) && this.userIdByLogin.has(lower(newLogin))) {
      throw new Error(`FakeGitHub: login ${newLogin} is taken`);
    }
    this.userIdByLogin.delete(lower(user.login));
    for (const repo of this.reposOf(user.id)) {
      this.movedRepos.set(`${lower(user.login)}/${lower(repo.name)}`, repo.id);
    }
    user.login = newLogin;
    user.updated_at = this.tick(user.updated_at);
    this.userIdByLogin.set(lower(newLogin), user.id);
    return user;
  }

  deleteRepo(ownerLogin: string, name: string): void {
    const { repo, owner } = this.requireRepo(ownerLogin, name);
    this.repos.delete(repo.id);
    this.repoIdByName.delete(this.nameKey(owner.id, repo.name));
    for (const [key, id] of this.movedRepos) {
      if (id === repo.id) this.movedRepos.delete(key);
    }
  }

  /** Deletes an account and every repository it owns, as GitHub does. */
  deleteUser(login: string): void {
    const user = this.requireUser(login);
    for (const repo of this.reposOf(user.id)) this.deleteRepo(user.login, repo.name);
    this.userIdByLogin.delete(lower(user.login));
    this.users.delete(user.id);
  }

  userByLogin(login: string): UserRecord | undefined {
    const id = this.userIdByLogin.get(lower(login));
    return id === undefined ? undefined : this.users.get(id);
  }

  userById(id: number): UserRecord | undefined {
    return this.users.get(id);
  }

  /** A live repository wins over a redirect left by an earlier rename or transfer. */
  repoByFullName(ownerLogin: string, name: string): RepoLookup | undefined {
    const owner = this.userByLogin(ownerLogin);
    const id = owner && this.repoIdByName.get(this.nameKey(owner.id, name));
    if (owner && id !== undefined) {
      const repo = this.repos.get(id);
      if (repo) return { kind: "found", repo, owner };
    }
    const movedId = this.movedRepos.get(`${lower(ownerLogin)}/${lower(name)}`);
    return movedId !== undefined && this.repos.has(movedId)
      ? { kind: "moved", repoId: movedId }
      : undefined;
  }

  repoById(id: number): { repo: RepoRecord; owner: UserRecord } | undefined {
    const repo = this.repos.get(id);
    const owner = repo && this.users.get(repo.ownerId);
    return repo && owner ? { repo, owner } : undefined;
  }

  reposOf(ownerId: number): RepoRecord[] {
    return [...this.repos.values()].filter((repo) => repo.ownerId === ownerId);
  }

  private applyInit(repo: RepoRecord, init: Partial<FakeRepoInit>): void {
    // Either flag implies the other unless both are given (which lets a test send odd data).
    if (init.visibility !== undefined) {
      repo.visibility = init.visibility;
      repo.private = init.private ?? init.visibility !== "public";
    } else if (init.private !== undefined) {
      repo.private = init.private;
      repo.visibility = init.private ? "private" : "public";
    }
    if (init.omitVisibility !== undefined) repo.omitVisibility = init.omitVisibility;
    if (init.stargazers_count !== undefined) repo.stargazers_count = init.stargazers_count;
    if (init.subscribers_count !== undefined) repo.subscribers_count = init.subscribers_count;
    if (init.size !== undefined) repo.size = init.size;
    if (init.created_at !== undefined) repo.created_at = init.created_at;
    if (init.updated_at !== undefined) repo.updated_at = init.updated_at;
  }

  /** Moves updated_at forward on the fake's own clock, never backwards. */
  private touch(repo: RepoRecord): void {
    repo.updated_at = this.tick(repo.updated_at);
  }

  private tick(previous: string): string {
    this.clock = Math.max(this.clock + 60_000, Date.parse(previous) + 1000);
    return isoSeconds(this.clock);
  }

  private nameKey(ownerId: number, name: string): string {
    return `${ownerId}/${lower(name)}`;
  }

  private assertNameFree(owner: UserRecord, name: string): void {
    if (this.repoIdByName.has(this.nameKey(owner.id, name))) {
      throw new Error(`FakeGitHub: ${owner.login}/${name} already exists`);
    }
  }

  private requireUser(login: string): UserRecord {
    const user = this.userByLogin(login);
    if (!user) throw new Error(`FakeGitHub: no user ${login}`);
    return user;
  }

  private requireRepo(ownerLogin: string, name: string) {
    const found = this.repoByFullName(ownerLogin, name);
    if (found?.kind !== "found") throw new Error(`FakeGitHub: no repository ${ownerLogin}/${name}`);
    return found;
  }
}
