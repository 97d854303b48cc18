import { Writable } from "node:stream";
import type { cacheStores } from "undici";

type CacheStore = InstanceType<typeof cacheStores.MemoryCacheStore>;
type CacheKey = Parameters<CacheStore["createWriteStream"]>[0];
type CacheValue = Parameters<CacheStore["createWriteStream"]>[1];
type RequestHeaders = CacheKey["headers"];

interface Entry extends CacheValue {
  method: string;
  body: Buffer[];
  /** Body bytes plus the header text, so many small answers count for what they hold. */
  size: number;
}

export interface BoundedCacheStoreOptions {
  /** Bytes kept in all; the least recently used answers are dropped to stay under it. */
  maxSize: number;
  /** Answers larger than this are passed through without being kept. */
  maxEntrySize: number;
}

function sameHeader(left: string | string[] | null | undefined, right: typeof left): boolean {
  if (left == null || right == null) return left == null && right == null;
  if (Array.isArray(left) || Array.isArray(right)) {
    return (
      Array.isArray(left) &&
      Array.isArray(right) &&
      left.length === right.length &&
      left.every((value, index) => value === right[index])
    );
  }
  return left === right;
}

function varyMatches(headers: RequestHeaders, entry: Entry): boolean {
  if (entry.vary == null) return true;
  return Object.entries(entry.vary).every(([name, value]) => sameHeader(headers?.[name], value));
}

/** Entries are found by URL first, then by method and Vary among that URL's answers. */
function urlKey(key: CacheKey): string {
  return `${key.origin}:${key.path}`;
}

function headerBytes(headers: Record<string, string | string[]>): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(headers)) {
    bytes += name.length + (Array.isArray(value) ? value.join("").length : value.length);
  }
  return bytes;
}

/**
 * An in-memory RFC 9111 store for undici's cache interceptor that keeps to its byte budget.
 * undici 7.30's MemoryCacheStore evicts half of each URL's entries with
 * `splice(0, entries.length / 2)`, which removes nothing when a URL holds one entry (the usual
 * case), and never drops expired entries: every GitHub body the service ever fetched stayed in
 * memory (nodejs/undici#5737). This one drops expired entries as it meets them and the least
 * recently used URLs once over budget.
 */
export class BoundedCacheStore implements CacheStore {
  /** By `origin:path`, least recently used first. */
  private readonly entries = new Map<string, Entry[]>();
  private size = 0;

  constructor(private readonly options: BoundedCacheStoreOptions) {}

  get(key: CacheKey) {
    const topLevelKey = urlKey(key);
    const entries = this.entries.get(topLevelKey);
    if (entries === undefined) return undefined;
    const entry = this.find(topLevelKey, entries, key);
    if (entry === undefined) return undefined;
    this.entries.delete(topLevelKey);
    this.entries.set(topLevelKey, entries);
    return {
      statusCode: entry.statusCode,
      statusMessage: entry.statusMessage,
      headers: entry.headers,
      body: entry.body,
      vary: entry.vary,
      etag: entry.etag,
      cacheControlDirectives: entry.cacheControlDirectives ?? {},
      cachedAt: entry.cachedAt,
      staleAt: entry.staleAt,
      deleteAt: entry.deleteAt,
    };
  }

  createWriteStream(key: CacheKey, value: CacheValue): Writable {
    const topLevelKey = urlKey(key);
    const entry: Entry = {
      ...value,
      method: key.method,
      body: [],
      size: headerBytes(value.headers),
    };
    const store = this;
    return new Writable({
      write(chunk: Buffer, _encoding, callback) {
        entry.size += chunk.byteLength;
        // Destroyed without an error, the stream only stops storing: the interceptor keeps
        // passing the answer on, and the entry it may already hold for this URL stays.
        if (entry.size > store.options.maxEntrySize) this.destroy();
        else entry.body.push(chunk);
        callback();
      },
      final(callback) {
        store.add(topLevelKey, key, entry);
        callback();
      },
    });
  }

  delete(key: CacheKey): void {
    const topLevelKey = urlKey(key);
    for (const entry of this.entries.get(topLevelKey) ?? []) this.size -= entry.size;
    this.entries.delete(topLevelKey);
  }

  /** The live entry for `key`; expired entries met on the way are dropped. */
  private find(topLevelKey: string, entries: Entry[], key: CacheKey): Entry | undefined {
    const now = Date.now();
    let found: Entry | undefined;
    for (let index = entries.length - 1; index >= 0; index--) {
      const entry = entries[index] as Entry;
      if (entry.deleteAt <= now) {
        entries.splice(index, 1);
        this.size -= entry.size;
      } else if (
        found === undefined &&
        entry.method === key.method &&
        varyMatches(key.headers, entry)
      ) {
        found = entry;
      }
    }
    if (entries.length === 0) this.entries.delete(topLevelKey);
    return found;
  }

  private add(topLevelKey: string, key: CacheKey, entry: Entry): void {
    const entries = this.entries.get(topLevelKey) ?? [];
    const previous = this.find(topLevelKey, entries, key);
    if (previous !== undefined) {
      entries.splice(entries.indexOf(previous), 1);
      this.size -= previous.size;
    }
    entries.push(entry);
    this.size += entry.size;
    this.entries.delete(topLevelKey);
    this.entries.set(topLevelKey, entries);
    for (const [oldestKey, oldest] of this.entries) {
      if (this.size <= this.options.maxSize) break;
      for (const dropped of oldest) this.size -= dropped.size;
      this.entries.delete(oldestKey);
    }
  }
}
