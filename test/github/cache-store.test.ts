import { finished } from "node:stream/promises";
import { afterEach, describe, expect, it, vi } from "vitest";
import { BoundedCacheStore } from "../../src/github/cache-store.js";
import { createGitHubDispatcher } from "../../src/github/dispatcher.js";
import { FakeGitHub } from "../fake-github/server.js";

const ORIGIN = "https://api.github.test";
const KB = 1024;

function key(path: string, headers: Record<string, string> = {}) {
  return { origin: ORIGIN, method: "GET", path, headers };
}

function value(lifetimeMs = 60_000, vary?: Record<string, string | null>) {
  const now = Date.now();
  return {
    statusCode: 200,
    statusMessage: "OK",
    headers: { etag: 'W/"x"' },
    ...(vary ? { vary } : {}),
    etag: 'W/"x"',
    cacheControlDirectives: { "max-age": lifetimeMs / 1000 },
    cachedAt: now,
    staleAt: now + lifetimeMs,
    deleteAt: now + 2 * lifetimeMs,
  };
}

async function put(
  store: BoundedCacheStore,
  path: string,
  bytes: number,
  options: {
    headers?: Record<string, string>;
    lifetimeMs?: number;
    vary?: Record<string, string>;
  } = {},
) {
  const stream = store.createWriteStream(
    key(path, options.headers),
    value(options.lifetimeMs, options.vary),
  );
  stream.write(Buffer.alloc(bytes / 2, path));
  stream.end(Buffer.alloc(bytes / 2, path));
  await finished(stream).catch(() => {});
}

function bodyBytes(store: BoundedCacheStore, path: string, headers?: Record<string, string>) {
  const body = store.get(key(path, headers))?.body as Buffer[] | undefined;
  return body?.reduce((sum, chunk) => sum + chunk.byteLength, 0);
}

describe("BoundedCacheStore", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("stays within its budget when every URL holds one answer", async () => {
    const store = new BoundedCacheStore({ maxSize: 100 * KB, maxEntrySize: 50 * KB });
    for (let page = 1; page <= 20; page++) await put(store, `/users/a/repos?page=${page}`, 20 * KB);
    const kept = Array.from({ length: 20 }, (_, index) =>
      bodyBytes(store, `/users/a/repos?page=${index + 1}`),
    ).filter((bytes) => bytes !== undefined);
    expect(kept).toHaveLength(4);
    expect(bodyBytes(store, "/users/a/repos?page=20")).toBe(20 * KB);
    expect(bodyBytes(store, "/users/a/repos?page=16")).toBeUndefined();
  });

  it("drops the least recently used answer first", async () => {
    const store = new BoundedCacheStore({ maxSize: 50 * KB, maxEntrySize: 50 * KB });
    await put(store, "/a", 20 * KB);
    await put(store, "/b", 20 * KB);
    expect(bodyBytes(store, "/a")).toBe(20 * KB);
    await put(store, "/c", 20 * KB);
    expect(bodyBytes(store, "/b")).toBeUndefined();
    expect(bodyBytes(store, "/a")).toBe(20 * KB);
    expect(bodyBytes(store, "/c")).toBe(20 * KB);
  });

  it("drops an answer once undici's retention runs out, and frees its share of the budget", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const store = new BoundedCacheStore({ maxSize: 50 * KB, maxEntrySize: 50 * KB });
    await put(store, "/old", 40 * KB, { lifetimeMs: 1_000 });
    await put(store, "/kept", 5 * KB);
    vi.setSystemTime(Date.now() + 2_001);
    expect(store.get(key("/old"))).toBeUndefined();
    await put(store, "/a", 20 * KB);
    expect(bodyBytes(store, "/kept")).toBe(5 * KB);
    expect(bodyBytes(store, "/a")).toBe(20 * KB);
  });

  it("replaces the answer for the same URL and Vary, and keeps answers that vary apart", async () => {
    const store = new BoundedCacheStore({ maxSize: 100 * KB, maxEntrySize: 50 * KB });
    const asA = { authorization: "Bearer a" };
    const asB = { authorization: "Bearer b" };
    await put(store, "/user", 10 * KB, { headers: asA, vary: { authorization: "Bearer a" } });
    await put(store, "/user", 20 * KB, { headers: asB, vary: { authorization: "Bearer b" } });
    await put(store, "/user", 30 * KB, { headers: asA, vary: { authorization: "Bearer a" } });
    expect(bodyBytes(store, "/user", asA)).toBe(30 * KB);
    expect(bodyBytes(store, "/user", asB)).toBe(20 * KB);
    expect(store.get(key("/user", { authorization: "Bearer c" }))).toBeUndefined();
    // 50 KB of 100 KB are used now, so two more 20 KB answers still fit.
    await put(store, "/x", 20 * KB);
    await put(store, "/y", 20 * KB);
    expect(bodyBytes(store, "/user", asB)).toBe(20 * KB);
  });

  it("passes an answer over its entry limit through, keeping the one it already held", async () => {
    const store = new BoundedCacheStore({ maxSize: 100 * KB, maxEntrySize: 30 * KB });
    await put(store, "/a", 20 * KB);
    await put(store, "/a", 40 * KB);
    expect(bodyBytes(store, "/a")).toBe(20 * KB);
  });

  it("forgets a URL on delete", async () => {
    const store = new BoundedCacheStore({ maxSize: 100 * KB, maxEntrySize: 50 * KB });
    await put(store, "/a", 20 * KB);
    store.delete(key("/a"));
    expect(store.get(key("/a"))).toBeUndefined();
  });
});

describe("the GitHub dispatcher's cache", () => {
  it("keeps within its byte budget across many large answers", async () => {
    const fake = await FakeGitHub.start();
    const dispatcher = createGitHubDispatcher({ timeoutMs: 5_000, cacheMaxBytes: 1024 * KB });
    try {
      fake.addUser({ login: "thousand", repoCount: 1000 });
      const pages = Array.from(
        { length: 10 },
        (_, index) => `/users/thousand/repos?per_page=100&page=${index + 1}`,
      );
      const get = async (path: string) => {
        const response = await dispatcher.request({
          origin: fake.url,
          path,
          method: "GET",
          headers: { authorization: "Bearer t" },
        });
        await response.body.text();
      };
      for (const path of pages) await get(path);
      fake.resetRequests();
      for (const path of [...pages].reverse()) await get(path);
      // About 470 KB a page: only the last two fit in 1 MB, so the others are asked for again.
      expect(fake.requests.map((request) => request.path)).toEqual(pages.slice(0, 8).reverse());
    } finally {
      await dispatcher.close();
      await fake.close();
    }
  });
});
