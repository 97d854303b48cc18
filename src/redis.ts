import { once } from "node:events";
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

/**
 * Whether Redis answered within `timeoutMs`. The server waits for it before listening, so that
 * its first requests find the shared cache, but starts without it when Redis is away: the
 * connection keeps trying, and the cache is used from when it is up.
 */
export async function redisReady(redis: Redis, timeoutMs = 2_000): Promise<boolean> {
  if (redis.status === "ready") return true;
  try {
    await once(redis, "ready", { signal: AbortSignal.timeout(timeoutMs) });
    return true;
  } catch {
    return false;
  }
}
