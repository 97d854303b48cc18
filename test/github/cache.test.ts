import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import {
  type CacheStore,
  type Fetched,
  GitHubCache,
  MemoryStore,
  RedisStore,
  tokenScope,
} from "../../src/github/cache.js";
import { openRedis } from "../../src/redis.js";
import { TcpProxy } from "../reliability/tcp-proxy.js";

// A database of its own on the machine's Redis, emptied before use.
const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379/5";

const fresh = (value: unknown, etag = '"v1"'): Fetched<unknown> => ({
  notModified: false,
  value,
  headers: { etag, "cache-control": "private, max-age=60" },
});

/** A fetcher that counts its calls and says what it was given. */
function fetcherOf(answer: (kept: unknown) => Fetched<unknown>) {
  const calls: Array<string | undefined> = [];
  const fetch = async (kept: { etag?: string | undefined } | undefined) => {
    calls.push(kept?.etag);
    return answer(kept);
  };
  return { fetch, calls };
}

async function laterBy<T>(ms: number, task: () => Promise<T>): Promise<T> {
  // Only Date is faked: sockets and timers stay real, while max-age runs out.
  vi.useFakeTimers({ toFake: ["Date"] });
  try {
    vi.setSystemTime(Date.now() + ms);
    return await task();
  } finally {
    vi.useRealTimers();
  }
}

/** Commands fail at once until the connection is up, so a test that needs it waits. */
async function ready(client: Redis): Promise<Redis> {
  if (client.status !== "ready") await new Promise((resolve) => client.once("ready", resolve));
  return client;
}

const redis = openRedis(REDIS_URL);
beforeAll(async () => {
  await ready(redis);
  await redis.flushdb();
});
afterAll(() => redis.quit());

describe.each([
  ["memory", () => new MemoryStore()],
  ["Redis", () => new RedisStore(redis)],
] as Array<[string, () => CacheStore]>)("the GitHub cache on a %s store", (_kind, makeStore) => {
  it("answers within max-age without asking, then revalidates with the ETag, and a 304 reuses the kept value", async () => {
    const cache = new GitHubCache(makeStore(), { token: "t-revalidate" });
    const { fetch, calls } = fetcherOf((kept) =>
      kept === undefined
        ? fresh({ id: 1, name: "kept" })
        : { notModified: true, headers: { "cache-control": "private, max-age=60" } },
    );
    const first = await cache.get("repos/a/b", fetch);
    const second = await cache.get("repos/a/b", fetch);
    expect(second.value).toEqual({ id: 1, name: "kept" });
    expect(calls).toEqual([undefined]);
    const revalidated = await laterBy(61_000, () => cache.get("repos/a/b", fetch));
    expect(calls).toEqual([undefined, '"v1"']);
    expect(revalidated.value).toEqual(first.value);
    expect(revalidated.freshUntil).toBeGreaterThan(first.freshUntil);
    // The revalidated answer is kept fresh again: the next lookup asks nothing.
    await laterBy(62_000, () => cache.get("repos/a/b", fetch));
    expect(calls).toHaveLength(2);
    expect(cache.stats().lookups).toEqual({ hit: 2, revalidated: 1, miss: 1 });
  });

  it("replaces the kept value when GitHub sends a new one", async () => {
    const cache = new GitHubCache(makeStore(), { token: "t-replace" });
    let version = 1;
    const { fetch } = fetcherOf(() => fresh({ version }, `"v${version}"`));
    await cache.get("users/changing", fetch);
    version = 2;
    const after = await laterBy(61_000, () => cache.get("users/changing", fetch));
    expect(after.value).toEqual({ version: 2 });
    expect(after.etag).toBe('"v2"');
  });

  it("keeps nothing GitHub marks no-store", async () => {
    const cache = new GitHubCache(makeStore(), { token: "t-no-store" });
    const { fetch, calls } = fetcherOf(() => ({
      notModified: false,
      value: { id: 1 },
      headers: { etag: '"x"', "cache-control": "no-store" },
    }));
    await cache.get("users/secret", fetch);
    await cache.get("users/secret", fetch);
    expect(calls).toEqual([undefined, undefined]);
  });

  it("shares one fetch between identical lookups in flight", async () => {
    const cache = new GitHubCache(makeStore(), { token: "t-coalesce" });
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const calls: number[] = [];
    const fetch = async () => {
      calls.push(1);
      await gate;
      return fresh({ id: 7 });
    };
    const lookups = Array.from({ length: 20 }, () => cache.get("users/busy", fetch));
    release();
    const answers = await Promise.all(lookups);
    expect(calls).toHaveLength(1);
    expect(new Set(answers.map((answer) => JSON.stringify(answer.value)))).toEqual(
      new Set(['{"id":7}']),
    );
  });

  it("keeps tokens apart in one store, under a hash of each", async () => {
    const store = makeStore();
    const a = new GitHubCache(store, { token: "ghp_secret_a" });
    const b = new GitHubCache(store, { token: "ghp_secret_b" });
    await a.get("users/octocat", fetcherOf(() => fresh({ seenBy: "a" })).fetch);
    const other = fetcherOf(() => fresh({ seenBy: "b" }));
    expect((await b.get("users/octocat", other.fetch)).value).toEqual({ seenBy: "b" });
    expect(other.calls).toHaveLength(1);
    expect((await a.get("users/octocat", other.fetch)).value).toEqual({ seenBy: "a" });
    expect(tokenScope("ghp_secret_a")).toMatch(/^[0-9a-f]{16}$/);
  });

  it("hands out frozen values, so no caller can change what others read", async () => {
    const cache = new GitHubCache(makeStore(), { token: "t-frozen" });
    const { fetch } = fetcherOf(() => fresh({ owner: { login: "a" } }));
    await cache.get("repos/a/frozen", fetch);
    const answer = await cache.get("repos/a/frozen", fetch);
    expect(() => {
      (answer.value as { owner: { login: string } }).owner.login = "changed";
    }).toThrow(TypeError);
  });
});

describe("the Redis store", () => {
  it("keeps answers across restarts, for every replica", async () => {
    const before = new GitHubCache(new RedisStore(redis), { token: "t-restart" });
    await before.get("users/kept", fetcherOf(() => fresh({ id: 3 })).fetch);
    const other = await ready(openRedis(REDIS_URL));
    try {
      const after = new GitHubCache(new RedisStore(other), { token: "t-restart" });
      const { fetch, calls } = fetcherOf(() => fresh({ id: 4 }));
      expect((await after.get("users/kept", fetch)).value).toEqual({ id: 3 });
      expect(calls).toEqual([]);
    } finally {
      other.disconnect();
    }
  });

  it("writes no token into Redis, only its hash", async () => {
    const cache = new GitHubCache(new RedisStore(redis), { token: "ghp_never_stored" });
    await cache.get("users/hashed", fetcherOf(() => fresh({ id: 5 })).fetch);
    const keys = await redis.keys("*");
    expect(keys).toContain(`github:v1:${tokenScope("ghp_never_stored")}:users/hashed`);
    expect(keys.join("\n")).not.toContain("ghp_never_stored");
  });

  describe("cut off through a TCP proxy", () => {
    let proxy: TcpProxy;
    let client: Redis;
    beforeAll(async () => {
      const url = new URL(REDIS_URL);
      proxy = await TcpProxy.start({ host: url.hostname, port: Number(url.port) });
      client = await ready(openRedis(`redis://127.0.0.1:${proxy.port}${url.pathname}`));
    });
    afterEach(() => proxy.restore());
    afterAll(async () => {
      client.disconnect();
      await proxy.close();
    });

    it("answers from GitHub while Redis is away, logs the outage once, and uses Redis again once it is back", async () => {
      const warnings: string[] = [];
      const recoveries: string[] = [];
      const cache = new GitHubCache(new RedisStore(client), {
        token: "t-cut",
        log: {
          warn: (_details, message) => warnings.push(message),
          info: (_details, message) => recoveries.push(message),
        },
      });
      const { fetch, calls } = fetcherOf(() => fresh({ id: 6 }));
      await cache.get("users/cut", fetch);
      expect(calls).toHaveLength(1);
      proxy.cut();
      for (let round = 0; round < 5; round++) {
        expect((await cache.get(`users/cut-${round}`, fetch)).value).toEqual({ id: 6 });
      }
      expect(calls).toHaveLength(6);
      expect(warnings).toHaveLength(1);
      expect(cache.stats().storeDown).toBe(true);
      proxy.restore();
      await vi.waitFor(
        async () => {
          await cache.get("users/cut", fetch);
          expect(cache.stats().storeDown).toBe(false);
        },
        { timeout: 10_000, interval: 100 },
      );
      expect(recoveries).toEqual(["GitHub cache available again"]);
      const callsBefore = calls.length;
      await cache.get("users/cut", fetch);
      expect(calls).toHaveLength(callsBefore);
    });
  });

  it("hands GitHub's fetch an aborted signal when the last caller left while Redis was looking", async () => {
    const client = await ready(openRedis(REDIS_URL));
    const pauser = new Redis(REDIS_URL);
    try {
      const cache = new GitHubCache(new RedisStore(client), { token: "t-gone" });
      const signals: AbortSignal[] = [];
      const fetch = async (_kept: unknown, signal: AbortSignal) => {
        signals.push(signal);
        return fresh({ id: 9 });
      };
      // Redis holds the lookup for 150 ms (inside its 200 ms timeout); the caller leaves first.
      await pauser.call("CLIENT", "PAUSE", "150", "ALL");
      const caller = new AbortController();
      const lookup = cache.get("users/gone", fetch, caller.signal);
      caller.abort(new Error("caller left"));
      await expect(lookup).rejects.toThrow("caller left");
      await vi.waitFor(() => expect(signals).toHaveLength(1));
      expect(signals[0]?.aborted).toBe(true);
    } finally {
      await pauser.call("CLIENT", "UNPAUSE");
      pauser.disconnect();
      client.disconnect();
    }
  });

  it("treats a Redis slower than its command timeout as a miss", async () => {
    const client = await ready(openRedis(REDIS_URL));
    const pauser = new Redis(REDIS_URL);
    try {
      const cache = new GitHubCache(new RedisStore(client), { token: "t-slow" });
      const { fetch, calls } = fetcherOf(() => fresh({ id: 8 }));
      await cache.get("users/slow", fetch);
      // Redis holds every client's commands for 1 s; the cache gives up after 200 ms.
      await pauser.call("CLIENT", "PAUSE", "1000", "ALL");
      const started = performance.now();
      expect((await cache.get("users/slow", fetch)).value).toEqual({ id: 8 });
      expect(performance.now() - started).toBeLessThan(900);
      expect(calls).toHaveLength(2);
      expect(cache.stats().storeErrors).toBeGreaterThan(0);
    } finally {
      await pauser.call("CLIENT", "UNPAUSE");
      pauser.disconnect();
      client.disconnect();
    }
  });
});

describe("the memory store", () => {
  it("keeps to its byte budget, dropping the least recently used first", async () => {
    const store = new MemoryStore(4_000);
    const cache = new GitHubCache(store);
    const big = "x".repeat(900);
    for (const name of ["a", "b", "c"]) {
      await cache.get(`users/${name}`, fetcherOf(() => fresh({ big })).fetch);
    }
    // "a" is read again, so "b" is now the least recently used.
    await cache.get("users/a", fetcherOf(() => fresh({ big })).fetch);
    await cache.get("users/d", fetcherOf(() => fresh({ big })).fetch);
    await cache.get("users/e", fetcherOf(() => fresh({ big })).fetch);
    expect(store.size.bytes).toBeLessThanOrEqual(4_000);
    const again = fetcherOf(() => fresh({ big }));
    await cache.get("users/a", again.fetch);
    await cache.get("users/b", again.fetch);
    expect(again.calls).toHaveLength(1);
  });
});
