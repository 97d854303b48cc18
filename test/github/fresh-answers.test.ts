import { afterEach, describe, expect, it, vi } from "vitest";
import { FreshAnswers, freshnessLifetimeMs } from "../../src/github/fresh-answers.js";

describe("freshnessLifetimeMs", () => {
  it.each([
    [{ "cache-control": "private, max-age=60, s-maxage=60" }, 60_000],
    [{ "cache-control": "public, max-age=60", age: "15" }, 45_000],
    [{ "cache-control": "max-age=10", age: "30" }, 0],
    [{ "cache-control": "no-store, max-age=60" }, 0],
    [{ "cache-control": "private, no-cache" }, 0],
    [{ "cache-control": "private" }, 0],
    [{}, 0],
  ])("reads %j as %i ms", (headers, expected) => {
    expect(freshnessLifetimeMs(headers)).toBe(expected);
  });
});

describe("FreshAnswers", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("serves an answer until its max-age runs out", () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const answers = new FreshAnswers();
    answers.set("a", { id: 1 }, 60_000);
    vi.setSystemTime(Date.now() + 59_000);
    expect(answers.get("a")).toEqual({ id: 1 });
    vi.setSystemTime(Date.now() + 2_000);
    expect(answers.get("a")).toBeUndefined();
  });

  it("keeps nothing with no freshness left", () => {
    const answers = new FreshAnswers();
    answers.set("a", { id: 1 }, freshnessLifetimeMs({ "cache-control": "no-store" }));
    expect(answers.get("a")).toBeUndefined();
  });

  it("drops the oldest answer beyond its size", () => {
    const answers = new FreshAnswers(2);
    const fresh = 60_000;
    answers.set("a", 1, fresh);
    answers.set("b", 2, fresh);
    answers.set("a", 3, fresh);
    answers.set("c", 4, fresh);
    expect([answers.get("a"), answers.get("b"), answers.get("c")]).toEqual([3, undefined, 4]);
  });
});
