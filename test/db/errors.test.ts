import { describe, expect, it } from "vitest";
import { isDatabaseUnavailable } from "../../src/db/errors.js";

const withCode = (code: string, message = "failed") => Object.assign(new Error(message), { code });

describe("isDatabaseUnavailable", () => {
  it.each([
    ["a refused connection", withCode("ECONNREFUSED")],
    ["a server shutting down (57P01)", withCode("57P01")],
    ["a broken connection (08006)", withCode("08006")],
    ["too many connections (53300)", withCode("53300")],
    ["a dropped connection without a code", new Error("Connection terminated unexpectedly")],
    ["a pool timeout", new Error("timeout exceeded when trying to connect")],
    [
      "a driver error wrapped by drizzle",
      new Error("Failed query: select 1", { cause: withCode("ECONNRESET") }),
    ],
  ])("is true for %s", (_name, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it.each([
    ["a unique violation", withCode("23505", "duplicate key value")],
    ["a syntax error", withCode("42601", "syntax error at or near")],
    ["a plain bug", new TypeError("x is undefined")],
    ["something not an error", "oops"],
  ])("is false for %s", (_name, error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
  });
});
