import type { Redis } from "ioredis";
import type { Config } from "../config/config.js";
import { type CacheLog, GitHubCache, MemoryStore, RedisStore } from "./cache.js";
import { GitHubClient } from "./client.js";
import { createGitHubDispatcher, type GitHubDispatcherOptions } from "./dispatcher.js";

export interface OpenedGitHub {
  client: GitHubClient;
  /** Closes the keep-alive pool; Redis belongs to whoever opened it. */
  close(): Promise<void>;
}

/**
 * GitHub's client as the configuration asks for it: its pool, and its cache in Redis when
 * `redis` is given (REDIS_URL), else in memory. The server and the tests both open it here.
 */
export function openGitHub(options: {
  config: Config;
  redis?: Redis | undefined;
  log?: CacheLog | undefined;
  retry?: Pick<GitHubDispatcherOptions, "retryBaseDelayMs" | "maxRetries">;
}): OpenedGitHub {
  const { config, redis, log } = options;
  const dispatcher = createGitHubDispatcher({
    timeoutMs: config.githubTimeoutMs,
    ...options.retry,
  });
  const store = redis === undefined ? new MemoryStore() : new RedisStore(redis);
  const client = new GitHubClient({
    baseUrl: config.githubApiUrl,
    token: config.githubToken,
    timeoutMs: config.githubTimeoutMs,
    listingTimeoutMs: config.githubListingTimeoutMs,
    pageConcurrency: config.githubPageConcurrency,
    maxResponseBytes: config.githubMaxResponseBytes,
    listingsAtOnce: config.githubListingsAtOnce,
    listingQueue: config.githubListingQueue,
    dispatcher,
    cache: new GitHubCache(store, { token: config.githubToken, log }),
  });
  return { client, close: () => dispatcher.close() };
}
