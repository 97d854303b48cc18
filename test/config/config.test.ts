import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/config.js";

describe("loadConfig", () => {
  it("applies API.md's defaults", () => {
    expect(loadConfig({})).toEqual({
      port: 8000,
      host: "0.0.0.0",
      databaseUrl: undefined,
      dataDir: "./data",
      githubApiUrl: "https://api.github.com",
      githubToken: undefined,
      githubTimeoutMs: 10_000,
      githubListingTimeoutMs: 60_000,
      githubPageConcurrency: 10,
      githubMaxResponseBytes: 5_242_880,
      githubListingsAtOnce: 2,
      githubListingQueue: 100,
      redisUrl: undefined,
      allowPrivateRepos: false,
      logLevel: "info",
      corsOrigins: [],
      rateLimitPerMinute: 0,
      maxConnections: 1024,
      metrics: true,
      refreshIntervalS: 0,
      refreshReserve: 0.2,
    });
  });

  it("reads every variable", () => {
    const config = loadConfig({
      PORT: "9000",
      HOST: "127.0.0.1",
      DATABASE_URL: "postgres://u:p@db:5432/app",
      DATA_DIR: "/var/lib/app",
      GITHUB_API_URL: "https://github.example.com/api/v3/",
      GITHUB_TOKEN: "ghp_abc",
      GITHUB_TIMEOUT_MS: "2500",
      GITHUB_LISTING_TIMEOUT_MS: "7000",
      GITHUB_PAGE_CONCURRENCY: "4",
      GITHUB_MAX_RESPONSE_BYTES: "1000000",
      REDIS_URL: "redis://cache:6379/2",
      ALLOW_PRIVATE_REPOS: "YES",
      LOG_LEVEL: "debug",
      CORS_ORIGINS: "https://a.example, https://b.example/",
      RATE_LIMIT_PER_MINUTE: "600",
      METRICS: "off",
      REFRESH_INTERVAL_S: "3600",
      REFRESH_RESERVE: "0.35",
    });
    expect(config).toMatchObject({
      port: 9000,
      host: "127.0.0.1",
      databaseUrl: "postgres://u:p@db:5432/app",
      dataDir: "/var/lib/app",
      githubApiUrl: "https://github.example.com/api/v3",
      githubToken: "ghp_abc",
      githubTimeoutMs: 2500,
      githubListingTimeoutMs: 7000,
      githubPageConcurrency: 4,
      githubMaxResponseBytes: 1_000_000,
      redisUrl: "redis://cache:6379/2",
      allowPrivateRepos: true,
      logLevel: "debug",
      corsOrigins: ["https://a.example", "https://b.example"],
      rateLimitPerMinute: 600,
      metrics: false,
      refreshIntervalS: 3600,
      refreshReserve: 0.35,
    });
  });

  it("gives a listing six GITHUB_TIMEOUT_MS in all unless GITHUB_LISTING_TIMEOUT_MS says", () => {
    expect(loadConfig({ GITHUB_TIMEOUT_MS: "1500" }).githubListingTimeoutMs).toBe(9_000);
  });

  it.each([
    ["PORT", "eighty"],
    ["PORT", "70000"],
    ["GITHUB_TIMEOUT_MS", "0"],
    ["GITHUB_TIMEOUT_MS", "-5"],
    ["ALLOW_PRIVATE_REPOS", "sometimes"],
    ["LOG_LEVEL", "loud"],
    ["DATABASE_URL", "mysql://x"],
    ["DATABASE_URL", "not a url"],
    ["GITHUB_API_URL", "ftp://example.com"],
    ["GITHUB_TOKEN", "has space"],
    ["CORS_ORIGINS", "not an origin"],
    ["RATE_LIMIT_PER_MINUTE", "lots"],
    ["GITHUB_PAGE_CONCURRENCY", "0"],
    ["GITHUB_MAX_RESPONSE_BYTES", "10"],
    ["GITHUB_LISTINGS_AT_ONCE", "0"],
    ["GITHUB_LISTING_TIMEOUT_MS", "0"],
    ["MAX_CONNECTIONS", "0"],
    ["REDIS_URL", "http://cache:6379"],
    ["METRICS", "maybe"],
    ["REFRESH_INTERVAL_S", "-1"],
    ["REFRESH_INTERVAL_S", "hourly"],
    ["REFRESH_RESERVE", "1.5"],
    ["REFRESH_RESERVE", "-0.1"],
    ["REFRESH_RESERVE", "20%"],
  ])("refuses %s=%s with a message naming the variable", (name, value) => {
    let caught: unknown;
    try {
      loadConfig({ [name]: value });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).variable).toBe(name);
    expect((caught as Error).message).toContain(name);
  });

  it("never repeats a database URL, which may hold a password, in its message", () => {
    expect(() => loadConfig({ DATABASE_URL: "postgres//user:hunter2@db" })).toThrow(
      /^Invalid configuration: DATABASE_URL is not a valid URL$/,
    );
  });

  it("treats an empty value as unset", () => {
    expect(loadConfig({ PORT: "", GITHUB_TOKEN: " " })).toMatchObject({
      port: 8000,
      githubToken: undefined,
    });
  });

  it("accepts a reserve of 0, of 1, and written without a leading zero", () => {
    for (const [raw, value] of [
      ["0", 0],
      ["1", 1],
      [".5", 0.5],
      ["1.0", 1],
    ] as const) {
      expect(loadConfig({ REFRESH_RESERVE: raw }).refreshReserve).toBe(value);
    }
  });

  it("accepts CORS_ORIGINS=*", () => {
    expect(loadConfig({ CORS_ORIGINS: "*" }).corsOrigins).toEqual(["*"]);
  });
});
