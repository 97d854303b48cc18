import { parseBooleanWord } from "./boolean-words.js";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Config {
  port: number;
  host: string;
  /** A postgres:// URL; undefined selects the embedded PGlite database in `dataDir`. */
  databaseUrl: string | undefined;
  dataDir: string;
  githubApiUrl: string;
  githubToken: string | undefined;
  githubTimeoutMs: number;
  /**
   * A listing's whole GitHub time, every page included, from when it gets its turn; past it the
   * listing is cancelled and answered 504. Defaults to 6 × githubTimeoutMs.
   */
  githubListingTimeoutMs: number;
  /** Listing pages fetched at once after the first. */
  githubPageConcurrency: number;
  /** A GitHub answer larger than this is a 502, read no further. */
  githubMaxResponseBytes: number;
  /** Listings fetched from GitHub at once, and how many more may wait (else 503 busy). */
  githubListingsAtOnce: number;
  githubListingQueue: number;
  /** A redis:// URL for the shared GitHub cache and rate limit; undefined keeps both in memory. */
  redisUrl: string | undefined;
  allowPrivateRepos: boolean;
  logLevel: LogLevel;
  /** Origins allowed by CORS; empty means CORS stays off. */
  corsOrigins: string[];
  /** Requests per minute per client IP on the service's own API; 0 turns the limit off. */
  rateLimitPerMinute: number;
  /** Open connections to this service at most; more are closed as they arrive. */
  maxConnections: number;
  /** Whether `/metrics` is served and requests are measured for it. */
  metrics: boolean;
  /** Saved rows older than this many seconds are refreshed from GitHub; 0 turns it off. */
  refreshIntervalS: number;
  /** Share of GitHub's primary rate limit that refreshing never spends, from 0 to 1. */
  refreshReserve: number;
}

/** A configuration value the service refuses to start with; the message names the variable. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`Invalid configuration: ${variable} ${problem}`);
    this.name = "ConfigError";
  }
}

/** How many GITHUB_TIMEOUT_MS a listing may take in all, unless GITHUB_LISTING_TIMEOUT_MS says. */
export const LISTING_ROUNDS = 6;

type Env = Record<string, string | undefined>;

function readString(env: Env, name: string, fallback: string): string {
  const value = env[name];
  if (value === undefined || value === "") return fallback;
  return value;
}

function readInteger(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (!/^\d+$/.test(raw.trim())) {
    throw new ConfigError(name, `must be a whole number between ${min} and ${max}, got "${raw}"`);
  }
  const value = Number(raw.trim());
  if (value < min || value > max) {
    throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  }
  return value;
}

function readBoolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = parseBooleanWord(raw.trim());
  if (value === undefined) {
    throw new ConfigError(name, `must be one of true/false, 1/0, yes/no, on/off, got "${raw}"`);
  }
  return value;
}

function readUrl(
  env: Env,
  name: string,
  protocols: string[],
  fallback?: string,
): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    // The raw value may hold a password, so it is not echoed back.
    throw new ConfigError(name, "is not a valid URL");
  }
  if (!protocols.includes(url.protocol)) {
    throw new ConfigError(name, `must start with ${protocols.map((p) => `${p}//`).join(" or ")}`);
  }
  return raw;
}

function readFraction(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw.trim());
  if (!/^\d*\.?\d+$/.test(raw.trim()) || value > 1) {
    throw new ConfigError(name, `must be a number from 0 to 1, got "${raw}"`);
  }
  return value;
}

function readLogLevel(env: Env): LogLevel {
  const raw = readString(env, "LOG_LEVEL", "info").toLowerCase();
  const level = LOG_LEVELS.find((candidate) => candidate === raw);
  if (!level) throw new ConfigError("LOG_LEVEL", `must be one of ${LOG_LEVELS.join(", ")}`);
  return level;
}

function readToken(env: Env): string | undefined {
  const raw = env.GITHUB_TOKEN;
  if (raw === undefined || raw.trim() === "") return undefined;
  // A token with whitespace or control characters would corrupt the Authorization header.
  if (!/^[\x21-\x7e]+$/.test(raw)) {
    throw new ConfigError("GITHUB_TOKEN", "must be printable ASCII without spaces");
  }
  return raw;
}

function readOrigins(env: Env): string[] {
  const raw = readString(env, "CORS_ORIGINS", "");
  if (raw === "") return [];
  return raw.split(",").map((origin) => {
    const trimmed = origin.trim();
    if (trimmed === "*") return trimmed;
    try {
      return new URL(trimmed).origin;
    } catch {
      throw new ConfigError("CORS_ORIGINS", `must be "*" or a comma-separated list of origins`);
    }
  });
}

/** Reads and validates the whole configuration, throwing a ConfigError for the first bad value. */
export function loadConfig(env: Env = process.env): Config {
  const githubApiUrl = readUrl(
    env,
    "GITHUB_API_URL",
    ["https:", "http:"],
    "https://api.github.com",
  );
  const githubTimeoutMs = readInteger(env, "GITHUB_TIMEOUT_MS", 10_000, 1, 600_000);
  return {
    port: readInteger(env, "PORT", 8000, 0, 65535),
    host: readString(env, "HOST", "0.0.0.0"),
    databaseUrl: readUrl(env, "DATABASE_URL", ["postgres:", "postgresql:"]),
    dataDir: readString(env, "DATA_DIR", "./data"),
    githubApiUrl: (githubApiUrl as string).replace(/\/+$/, ""),
    githubToken: readToken(env),
    githubTimeoutMs,
    // Six rounds of requests: the account and first page, then five of GITHUB_PAGE_CONCURRENCY
    // pages (5,100 repositories at the default of 10) even when GitHub takes its full time.
    githubListingTimeoutMs: readInteger(
      env,
      "GITHUB_LISTING_TIMEOUT_MS",
      LISTING_ROUNDS * githubTimeoutMs,
      1,
      3_600_000,
    ),
    githubPageConcurrency: readInteger(env, "GITHUB_PAGE_CONCURRENCY", 10, 1, 100),
    githubMaxResponseBytes: readInteger(
      env,
      "GITHUB_MAX_RESPONSE_BYTES",
      5 * 1024 * 1024,
      64 * 1024,
      1024 * 1024 * 1024,
    ),
    githubListingsAtOnce: readInteger(env, "GITHUB_LISTINGS_AT_ONCE", 2, 1, 64),
    githubListingQueue: readInteger(env, "GITHUB_LISTING_QUEUE", 100, 0, 100_000),
    redisUrl: readUrl(env, "REDIS_URL", ["redis:", "rediss:"]),
    allowPrivateRepos: readBoolean(env, "ALLOW_PRIVATE_REPOS", false),
    logLevel: readLogLevel(env),
    corsOrigins: readOrigins(env),
    rateLimitPerMinute: readInteger(env, "RATE_LIMIT_PER_MINUTE", 0, 0, 1_000_000),
    maxConnections: readInteger(env, "MAX_CONNECTIONS", 1024, 1, 1_000_000),
    metrics: readBoolean(env, "METRICS", true),
    refreshIntervalS: readInteger(env, "REFRESH_INTERVAL_S", 0, 0, 31_536_000),
    refreshReserve: readFraction(env, "REFRESH_RESERVE", 0.2),
  };
}
