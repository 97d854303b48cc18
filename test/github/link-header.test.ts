import { describe, expect, it } from "vitest";
import { parseLinkHeader } from "../../src/github/link-header.js";

describe("parseLinkHeader", () => {
  it("reads GitHub's format", () => {
    const links = parseLinkHeader(
      '<https://api.github.com/user/145979/repos?per_page=100&page=2>; rel="next", <https://api.github.com/user/145979/repos?per_page=100&page=3>; rel="last"',
    );
    expect(links.get("next")).toBe("https://api.github.com/user/145979/repos?per_page=100&page=2");
    expect(links.get("last")).toBe("https://api.github.com/user/145979/repos?per_page=100&page=3");
  });

  it("handles several rels in one link, unquoted rels and junk", () => {
    const links = parseLinkHeader(
      '<https://x/1>; rel="prev first", <https://x/9>; rel=last, garbage, <https://x/2>; title="t"',
    );
    expect([...links.entries()]).toEqual([
      ["prev", "https://x/1"],
      ["first", "https://x/1"],
      ["last", "https://x/9"],
    ]);
  });

  it("returns nothing for a missing header", () => {
    expect(parseLinkHeader(undefined).size).toBe(0);
  });
});
