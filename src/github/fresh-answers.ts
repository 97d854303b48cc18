type Headers = Record<string, string | string[] | undefined>;

/**
 * How long an answer stays fresh by its own `Cache-Control: max-age`, less its `Age`; 0 when it
 * must not be reused without asking (no-store, no-cache, no max-age).
 */
export function freshnessLifetimeMs(headers: Headers): number {
  const cacheControl = String(headers["cache-control"] ?? "").toLowerCase();
  if (/(^|,)\s*no-(store|cache)\b/.test(cacheControl)) return 0;
  const maxAge = /(^|,)\s*max-age=(\d+)/.exec(cacheControl)?.[2];
  if (maxAge === undefined) return 0;
  const age = Number(headers.age ?? 0);
  return Math.max(0, Number(maxAge) - (Number.isFinite(age) ? age : 0)) * 1000;
}

/**
 * GitHub answers already parsed and checked, kept while they are fresh by GitHub's own
 * Cache-Control. It sits in front of undici's RFC 9111 cache and is no replacement for it:
 * a fresh hit here skips the HTTP stack (interceptors, streams, JSON parsing, validation),
 * which was about 85% of the time of a repeated details request, and shares one parsed copy
 * between callers; once an answer is stale the request goes through undici's cache, which
 * revalidates it with its ETag. One instance serves one token, so entries need no Vary by
 * credential. Callers share the stored values and must not change them.
 */
export class FreshAnswers {
  private readonly entries = new Map<string, { value: unknown; expiresAt: number }>();

  constructor(private readonly maxEntries = 1_000) {}

  get(key: string): unknown {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt > Date.now()) return entry.value;
    this.entries.delete(key);
    return undefined;
  }

  /** Keeps `value` for `lifetimeMs`, as computed by freshnessLifetimeMs; 0 keeps nothing. */
  set(key: string, value: unknown, lifetimeMs: number): void {
    if (lifetimeMs <= 0) return;
    // Re-inserting moves the key to the end, so the first key is always the oldest.
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt: Date.now() + lifetimeMs });
    if (this.entries.size > this.maxEntries) {
      this.entries.delete(this.entries.keys().next().value as string);
    }
  }
}
