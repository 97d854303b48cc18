import { describe, expect, it } from "vitest";
import type { GitHubRepository } from "../../src/github/schemas.js";
import {
  accessOf,
  byName,
  detailsFromGitHub,
  recordFromGitHub,
  summaryFromGitHub,
  summaryFromListed,
} from "../../src/repositories/views.js";

const sparse: GitHubRepository = {
  id: 1,
  name: "bare",
  full_name: "someone/bare",
  owner: { id: 2, login: "someone" },
  html_url: "https://github.com/someone/bare",
  private: false,
  created_at: null,
  updated_at: null,
};

describe("repository views", () => {
  it("reads access from visibility, or from private when an old answer lacks it", () => {
    expect(accessOf({ visibility: "internal", private: true })).toBe("internal");
    expect(accessOf({ private: true })).toBe("private");
    expect(accessOf({ private: false })).toBe("public");
  });

  it("fills counts GitHub left out with 0 and keeps missing dates null", () => {
    expect(summaryFromGitHub(sparse)).toEqual({
      id: 1,
      name: "bare",
      full_name: "someone/bare",
      url: "https://github.com/someone/bare",
      access: "public",
      created_at: null,
      updated_at: null,
      size: 0,
      stars: 0,
    });
    expect(detailsFromGitHub(sparse, false)).toMatchObject({ watchers: 0, saved: false });
  });

  it("records what a save writes, and lists a saved repository as GitHub's answer shows it", () => {
    const full = {
      ...sparse,
      created_at: "2011-01-26T19:01:12Z",
      updated_at: "2011-01-26T19:14:43Z",
      size: 5,
      stargazers_count: 3,
    };
    const record = recordFromGitHub(full);
    expect(record).toMatchObject({
      createdAt: new Date("2011-01-26T19:01:12Z"),
      stars: 3,
      watchers: null,
    });
    expect(recordFromGitHub(sparse)).toMatchObject({ createdAt: null, updatedAt: null, size: 0 });
    const syncedAt = "2026-12-07T14:40:00Z";
    const listed = { ...record, createdAt: full.created_at, updatedAt: full.updated_at, syncedAt };
    expect(summaryFromListed(listed)).toEqual({ ...summaryFromGitHub(full), synced_at: syncedAt });
  });

  it("orders names case-insensitively, ties last", () => {
    expect(
      ["b", "A", "a", "C"]
        .map((name) => ({ name }))
        .sort(byName)
        .map((r) => r.name),
    ).toEqual(["A", "a", "b", "C"]);
    expect(byName({ name: "x" }, { name: "X" })).toBe(0);
  });
});
