import type { License, RepoRecord, UserRecord } from "./store.js";

/**
 * Response bodies in GitHub's current shapes and key order (octokit-fixtures 2022 plus the
 * keys GitHub added since, e.g. has_discussions). API URLs point at the fake, so a client that
 * follows `url` fields stays on it; web URLs stay on github.com as GitHub would send them.
 */
export interface BodyContext {
  /** `http://127.0.0.1:<port>`, in place of https://api.github.com. */
  apiBase: string;
  /**
   * The fake has no token -> user table, so any token is treated as the owner's: it sees
   * private and internal repositories and gets admin permissions and admin-only fields.
   */
  authenticated: boolean;
}

type Json = Record<string, unknown>;

const WEB = "https://github.com";

export const DOCS = {
  rest: "https://docs.github.com/rest",
  redirects:
    "https://docs.github.com/rest/guides/best-practices-for-using-the-rest-api#follow-redirects",
  rateLimit: "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting",
  secondaryRateLimit:
    "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
} as const;

/** GitHub's legacy global node ids: base64 of `<type length>:<Type><id>`. */
function nodeId(type: string, id: number): string {
  return Buffer.from(`0${type.length}:${type}${id}`).toString("base64");
}

/** The `simple-user` object GitHub nests as `owner` and `organization`. */
export function simpleUserBody(ctx: BodyContext, user: UserRecord): Json {
  const api = `${ctx.apiBase}/users/${user.login}`;
  return {
    login: user.login,
    id: user.id,
    node_id: nodeId(user.type, user.id),
    avatar_url: `https://avatars.githubusercontent.com/u/${user.id}?v=4`,
    gravatar_id: "",
    url: api,
    html_url: `${WEB}/${user.login}`,
    followers_url: `${api}/followers`,
    following_url: `${api}/following{/other_user}`,
    gists_url: `${api}/gists{/gist_id}`,
    starred_url: `${api}/starred{/owner}{/repo}`,
    subscriptions_url: `${api}/subscriptions`,
    organizations_url: `${api}/orgs`,
    repos_url: `${api}/repos`,
    events_url: `${api}/events{/privacy}`,
    received_events_url: `${api}/received_events`,
    type: user.type,
    site_admin: false,
  };
}

/** GET /users/{username}: the `public-user` shape. */
export function publicUserBody(ctx: BodyContext, user: UserRecord, publicRepos: number): Json {
  return {
    ...simpleUserBody(ctx, user),
    name: user.name,
    company: user.company,
    blog: user.blog,
    location: user.location,
    email: user.email,
    hireable: user.hireable,
    bio: user.bio,
    twitter_username: user.twitter_username,
    public_repos: publicRepos,
    public_gists: user.public_gists,
    followers: user.followers,
    following: user.following,
    created_at: user.created_at,
    updated_at: user.updated_at,
  };
}

function licenseBody(ctx: BodyContext, license: License): Json {
  return {
    key: license.key,
    name: license.name,
    spdx_id: license.spdx_id,
    // Only licences GitHub knows have a page; "other" has none (2021 recording).
    url: license.key === "other" ? null : `${ctx.apiBase}/licenses/${license.key}`,
    node_id: license.node_id,
  };
}

/** The keys both repository shapes share, up to `default_branch`. */
function repositoryBase(ctx: BodyContext, repo: RepoRecord, owner: UserRecord): Json {
  const fullName = `${owner.login}/${repo.name}`;
  const api = `${ctx.apiBase}/repos/${fullName}`;
  const web = `${WEB}/${fullName}`;
  return {
    id: repo.id,
    node_id: nodeId("Repository", repo.id),
    name: repo.name,
    full_name: fullName,
    private: repo.private,
    owner: simpleUserBody(ctx, owner),
    html_url: web,
    description: repo.description,
    fork: repo.fork,
    url: api,
    forks_url: `${api}/forks`,
    keys_url: `${api}/keys{/key_id}`,
    collaborators_url: `${api}/collaborators{/collaborator}`,
    teams_url: `${api}/teams`,
    hooks_url: `${api}/hooks`,
    issue_events_url: `${api}/issues/events{/number}`,
    events_url: `${api}/events`,
    assignees_url: `${api}/assignees{/user}`,
    branches_url: `${api}/branches{/branch}`,
    tags_url: `${api}/tags`,
    blobs_url: `${api}/git/blobs{/sha}`,
    git_tags_url: `${api}/git/tags{/sha}`,
    git_refs_url: `${api}/git/refs{/sha}`,
    trees_url: `${api}/git/trees{/sha}`,
    statuses_url: `${api}/statuses/{sha}`,
    languages_url: `${api}/languages`,
    stargazers_url: `${api}/stargazers`,
    contributors_url: `${api}/contributors`,
    subscribers_url: `${api}/subscribers`,
    subscription_url: `${api}/subscription`,
    commits_url: `${api}/commits{/sha}`,
    git_commits_url: `${api}/git/commits{/sha}`,
    comments_url: `${api}/comments{/number}`,
    issue_comment_url: `${api}/issues/comments{/number}`,
    contents_url: `${api}/contents/{+path}`,
    compare_url: `${api}/compare/{base}...{head}`,
    merges_url: `${api}/merges`,
    archive_url: `${api}/{archive_format}{/ref}`,
    downloads_url: `${api}/downloads`,
    issues_url: `${api}/issues{/number}`,
    pulls_url: `${api}/pulls{/number}`,
    milestones_url: `${api}/milestones{/number}`,
    notifications_url: `${api}/notifications{?since,all,participating}`,
    labels_url: `${api}/labels{/name}`,
    releases_url: `${api}/releases{/id}`,
    deployments_url: `${api}/deployments`,
    created_at: repo.created_at,
    updated_at: repo.updated_at,
    pushed_at: repo.pushed_at,
    git_url: `git://github.com/${fullName}.git`,
    ssh_url: `git@github.com:${fullName}.git`,
    clone_url: `${web}.git`,
    svn_url: web,
    homepage: repo.homepage,
    size: repo.size,
    stargazers_count: repo.stargazers_count,
    watchers_count: repo.stargazers_count,
    language: repo.language,
    has_issues: repo.has_issues,
    has_projects: repo.has_projects,
    has_downloads: repo.has_downloads,
    has_wiki: repo.has_wiki,
    has_pages: repo.has_pages,
    has_discussions: repo.has_discussions,
    forks_count: repo.forks_count,
    mirror_url: null,
    archived: repo.archived,
    disabled: false,
    open_issues_count: repo.open_issues_count,
    license: repo.license && licenseBody(ctx, repo.license),
    allow_forking: true,
    is_template: repo.is_template,
    web_commit_signoff_required: false,
    topics: repo.topics,
    ...(repo.omitVisibility ? {} : { visibility: repo.visibility }),
    // The legacy duplicates of the counts, still sent.
    forks: repo.forks_count,
    open_issues: repo.open_issues_count,
    watchers: repo.stargazers_count,
    default_branch: repo.default_branch,
  };
}

const ADMIN_PERMISSIONS = { admin: true, maintain: true, push: true, triage: true, pull: true };

/**
 * GET /users/{username}/repos items: the `minimal-repository` shape as this listing sends it,
 * which has no subscribers_count, network_count, temp_clone_token or organization.
 */
export function minimalRepositoryBody(ctx: BodyContext, repo: RepoRecord, owner: UserRecord): Json {
  const body = repositoryBase(ctx, repo, owner);
  return ctx.authenticated ? { ...body, permissions: ADMIN_PERMISSIONS } : body;
}

/** GET /repos/{owner}/{repo} and /repositories/{id}: the `full-repository` shape. */
export function fullRepositoryBody(ctx: BodyContext, repo: RepoRecord, owner: UserRecord): Json {
  const adminOnly = ctx.authenticated
    ? {
        permissions: ADMIN_PERMISSIONS,
        temp_clone_token: "",
        allow_squash_merge: true,
        allow_merge_commit: true,
        allow_rebase_merge: true,
        allow_auto_merge: false,
        delete_branch_on_merge: false,
        allow_update_branch: false,
        use_squash_pr_title_as_default: false,
        squash_merge_commit_message: "COMMIT_MESSAGES",
        squash_merge_commit_title: "COMMIT_OR_PR_TITLE",
        merge_commit_message: "PR_TITLE",
        merge_commit_title: "MERGE_MESSAGE",
      }
    : { temp_clone_token: null };
  return {
    ...repositoryBase(ctx, repo, owner),
    ...adminOnly,
    ...(owner.type === "Organization" ? { organization: simpleUserBody(ctx, owner) } : {}),
    network_count: repo.forks_count,
    subscribers_count: repo.subscribers_count,
  };
}

export function notFoundBody(): Json {
  return { message: "Not Found", documentation_url: DOCS.rest, status: "404" };
}

export function movedPermanentlyBody(location: string): Json {
  return { message: "Moved Permanently", url: location, documentation_url: DOCS.redirects };
}

export function rateLimitedBody(authenticated: boolean): Json {
  const message = authenticated
    ? "API rate limit exceeded for user ID 1."
    : "API rate limit exceeded for 127.0.0.1. (But here's the good news: Authenticated requests get a higher rate limit. Check out the documentation for more details.)";
  return { message, documentation_url: DOCS.rateLimit };
}

export function secondaryRateLimitedBody(requestId: string): Json {
  return {
    message: `You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID ${requestId}.`,
    documentation_url: DOCS.secondaryRateLimit,
  };
}

export function serverErrorBody(): Json {
  return { message: "Server Error" };
}
