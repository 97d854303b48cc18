import { describe, expect, it } from "vitest";
import { RenderedListings } from "../../src/http/rendered-listings.js";

const entry = (userId: number, bytes: number) => ({
  version: `etags-of-${userId}`,
  body: Buffer.alloc(bytes),
});

describe("RenderedListings", () => {
  it("keeps listings up to its byte bound, dropping the least recently used first", () => {
    const listings = new RenderedListings(300);
    listings.set("a", entry(1, 100));
    listings.set("b", entry(2, 100));
    listings.set("c", entry(3, 100));
    expect(listings.get("a")?.version).toBe("etags-of-1");
    listings.set("d", entry(4, 100));
    expect(listings.get("b")).toBeUndefined();
    expect(["a", "c", "d"].map((key) => listings.get(key)?.version)).toEqual([
      "etags-of-1",
      "etags-of-3",
      "etags-of-4",
    ]);
  });

  it("replaces a login's listing without counting the old one", () => {
    const listings = new RenderedListings(300);
    listings.set("a", entry(1, 200));
    listings.set("a", entry(1, 250));
    listings.set("b", entry(2, 50));
    expect(listings.get("a")?.body.length).toBe(250);
    expect(listings.get("b")?.body.length).toBe(50);
  });

  it("does not keep a listing larger than the bound", () => {
    const listings = new RenderedListings(300);
    listings.set("a", entry(1, 100));
    listings.set("huge", entry(2, 301));
    expect(listings.get("huge")).toBeUndefined();
    expect(listings.get("a")?.body.length).toBe(100);
  });
});
