import { Redis } from "ioredis";

// A Redis slower than this is treated as away: a cache lookup counts as a miss and GitHub is
// asked; a rate-limit count is skipped.
const COMMAND_TIMEOUT_MS = 200;

/**
 * The connection to Redis that the GitHub cache and the API's rate limit share. Redis is
 * optional and may go away at any time, so commands fail at once while it is away instead of
 * queueing behind the reconnect, and each user of the connection reports failures as its
 * commands meet them.
 */
export function openRedis(url: string): Redis {
  const redis = new Redis(url, {
    commandTimeout: COMMAND_TIMEOUT_MS,
    connectTimeout: 1_000,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
  });
  // Without a listener ioredis prints every failed reconnect to the console.
  redis.on("error", () => {});
  return redis;
}
