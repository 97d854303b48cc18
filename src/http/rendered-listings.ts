import type { ListingVersion } from "../db/repository-store.js";

export interface RenderedListing {
  /** The saved listing's version, or the ETags of GitHub's answers it was built from. */
  version: ListingVersion | string;
  /** The answer's JSON, as the route's response schema serialises it. */
  body: Buffer;
}

/**
 * Listings already serialised, the one cache of serialised answers: a saved listing by
 * `local:` and its lower-cased login with the version it was read at, a listing from GitHub by
 * `github:` with the ETags of the answers it was built from. Building and serialising 1,000
 * repositories took several times longer than checking a version, and 100 callers of one
 * listing would each build and serialise their own, so each version is serialised once. The
 * check is still made on every request (a query, or the GitHub cache's lookups), so an answer
 * is always what the database or GitHub holds now. Bounded by total bytes, the least recently
 * used going first.
 */
export class RenderedListings {
  private readonly entries = new Map<string, RenderedListing>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  get(key: string): RenderedListing | undefined {
    const entry = this.entries.get(key);
    if (entry !== undefined) {
      // Re-inserting moves the key to the end, so the first key is always the least recent.
      this.entries.delete(key);
      this.entries.set(key, entry);
    }
    return entry;
  }

  set(key: string, entry: RenderedListing): void {
    this.delete(key);
    if (entry.body.length > this.maxBytes) return;
    this.entries.set(key, entry);
    this.bytes += entry.body.length;
    for (const oldest of this.entries.keys()) {
      if (this.bytes <= this.maxBytes) break;
      this.delete(oldest);
    }
  }

  private delete(key: string): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.entries.delete(key);
    this.bytes -= entry.body.length;
  }
}
