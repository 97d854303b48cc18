import { createHash } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import type { SeededRandom } from "./random.js";
import type { RateLimitBucket } from "./rate-limit.js";

/** A header list rather than an object, because GitHub sends `Vary` twice. */
export type HeaderList = Array<[name: string, value: string]>;

// Header values copied from the 2022 octokit-fixtures recordings.
export const SECURITY_HEADERS: HeaderList = [
  [
    "Access-Control-Expose-Headers",
    "ETag, Link, Location, Retry-After, X-GitHub-OTP, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Used, X-RateLimit-Resource, X-RateLimit-Reset, X-OAuth-Scopes, X-Accepted-OAuth-Scopes, X-Poll-Interval, X-GitHub-Media-Type, X-GitHub-SSO, X-GitHub-Request-Id, Deprecation, Sunset",
  ],
  ["Access-Control-Allow-Origin", "*"],
  ["Strict-Transport-Security", "max-age=31536000; includeSubdomains; preload"],
  ["X-Frame-Options", "deny"],
  ["X-Content-Type-Options", "nosniff"],
  ["X-XSS-Protection", "0"],
  ["Referrer-Policy", "origin-when-cross-origin, strict-origin-when-cross-origin"],
  ["Content-Security-Policy", "default-src 'none'"],
  // GitHub's edge adds this second Vary line to every answer, errors included.
  ["Vary", "Accept-Encoding, Accept, X-Requested-With"],
];

export const JSON_CONTENT_TYPE = "application/json; charset=utf-8";

export function rateLimitHeaders(bucket: RateLimitBucket): HeaderList {
  return [
    ["X-RateLimit-Limit", String(bucket.limit)],
    ["X-RateLimit-Remaining", String(bucket.remaining)],
    ["X-RateLimit-Reset", String(bucket.reset)],
    ["X-RateLimit-Used", String(bucket.limit - bucket.remaining)],
    ["X-RateLimit-Resource", "core"],
  ];
}

export interface GitHubHeaderParts {
  bucket: RateLimitBucket;
  requestId: string;
  /** The request's Accept, echoed as X-GitHub-Media-Type; absent on 304s, as recorded. */
  accept?: string | undefined;
  json?: boolean;
  validators?: HeaderList;
  location?: string | undefined;
  link?: string | undefined;
}

/** An API answer's headers, in the order of the 2022 recordings. */
export function githubHeaders(parts: GitHubHeaderParts): HeaderList {
  const optional = (name: string, value: string | undefined): HeaderList =>
    value === undefined ? [] : [[name, value]];
  return [
    ["Server", "GitHub.com"],
    ...optional("Content-Type", parts.json ? JSON_CONTENT_TYPE : undefined),
    ...(parts.validators ?? []),
    ...optional("Location", parts.location),
    ...optional(
      "X-GitHub-Media-Type",
      parts.accept === undefined ? undefined : githubMediaType(parts.accept),
    ),
    ...optional("Link", parts.link),
    ...rateLimitHeaders(parts.bucket),
    ...SECURITY_HEADERS,
    ["X-GitHub-Request-Id", parts.requestId],
  ];
}

/** Cache-Control, Vary, ETag and Last-Modified of a cacheable 200, and of its 304. */
export function validatorHeaders(
  authenticated: boolean,
  etag: string,
  lastModified: string | undefined,
  maxAgeSeconds = 60,
): HeaderList {
  return [
    ...cacheHeaders(authenticated, maxAgeSeconds),
    ["ETag", etag],
    ...(lastModified === undefined
      ? []
      : [["Last-Modified", httpDate(lastModified)] as [string, string]]),
  ];
}

/** If-None-Match decides when present; otherwise If-Modified-Since, as RFC 9110 orders them. */
export function isNotModified(
  request: IncomingHttpHeaders,
  etag: string,
  lastModified: string | undefined,
): boolean {
  const ifNoneMatch = request["if-none-match"];
  if (ifNoneMatch !== undefined) return etagMatches(ifNoneMatch, etag);
  return lastModified !== undefined && notModifiedSince(request["if-modified-since"], lastModified);
}

/** GitHub-shaped request ids (`0687:0D5B:29F123D:4E0B9D8:62D6351D`), unique and seeded. */
export class RequestIds {
  private readonly prefix: string;
  private count = 0;

  constructor(random: SeededRandom) {
    const group = () => random.int(0x1000, 0xffff).toString(16).toUpperCase();
    this.prefix = `${group()}:${group()}`;
  }

  next(): string {
    const n = ++this.count;
    const hex = (value: number) => value.toString(16).toUpperCase();
    return `${this.prefix}:${hex(0x1000000 + n)}:${hex(0x2000000 + 3 * n)}:${hex(0x60000000 + n)}`;
  }
}

function cacheHeaders(authenticated: boolean, maxAge: number): HeaderList {
  // Authenticated answers are per-user, so GitHub forbids shared caches from keeping them and
  // varies them by credential; anonymous ones (2017 and 2021 recordings) only vary by Accept.
  return authenticated
    ? [
        ["Cache-Control", `private, max-age=${maxAge}, s-maxage=${maxAge}`],
        ["Vary", "Accept, Authorization, Cookie, X-GitHub-OTP"],
      ]
    : [
        ["Cache-Control", `public, max-age=${maxAge}, s-maxage=${maxAge}`],
        ["Vary", "Accept"],
      ];
}

/**
 * GitHub's current ETags are the SHA-256 of the body; it sends them weak (`W/`) whenever the
 * body may be re-encoded on the way (gzip), which is how most clients see them.
 */
export function etagFor(body: string): string {
  return `W/"${createHash("sha256").update(body).digest("hex")}"`;
}

/** RFC 9110 weak comparison: `W/"x"` and `"x"` name the same representation for If-None-Match. */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, "");
  return ifNoneMatch
    .split(",")
    .some((candidate) => candidate.trim() === "*" || opaque(candidate) === opaque(etag));
}

/** `2017-09-19T15:57:54Z` -> `Tue, 19 Sep 2017 15:57:54 GMT`, GitHub's Last-Modified format. */
export function httpDate(iso: string): string {
  return new Date(iso).toUTCString();
}

/** True when If-Modified-Since is at or after `lastModified` (second precision, as HTTP dates are). */
export function notModifiedSince(ifModifiedSince: string | undefined, lastModified: string) {
  if (ifModifiedSince === undefined) return false;
  const since = Date.parse(ifModifiedSince);
  return Number.isFinite(since) && Math.floor(Date.parse(lastModified) / 1000) * 1000 <= since;
}

/**
 * `X-GitHub-Media-Type` echoes what GitHub understood of `Accept`:
 * `application/vnd.github.v3.full+json` -> `github.v3; param=full; format=json`, and a preview
 * such as `application/vnd.github.drax-preview+json` -> `github.v3; param=drax-preview; format=json`.
 */
export function githubMediaType(accept: string | undefined): string {
  const match = /application\/vnd\.github(?:\.([\w-]+))?(?:\.([\w-]+))?\+json/i.exec(accept ?? "");
  const [, first, second] = match ?? [];
  const param = first === "v3" ? second : first;
  return param ? `github.v3; param=${param}; format=json` : "github.v3; format=json";
}

/**
 * The pagination `Link` header in GitHub's current format and rel order (prev, next, last,
 * first; see paginate-issues), or undefined for a single page. `target` is the canonical list
 * URL; each link keeps the request's other query parameters and puts `page` last, as GitHub does.
 */
export function paginationLink(
  target: string,
  query: URLSearchParams,
  page: number,
  lastPage: number,
): string | undefined {
  const pageUrl = (n: number) => {
    const params = new URLSearchParams([...query].filter(([name]) => name !== "page"));
    params.append("page", String(n));
    return `<${target}?${params}>`;
  };
  const links: string[] = [];
  if (page > 1) links.push(`${pageUrl(page - 1)}; rel="prev"`);
  if (page < lastPage) {
    links.push(`${pageUrl(page + 1)}; rel="next"`, `${pageUrl(lastPage)}; rel="last"`);
  }
  if (page > 1) links.push(`${pageUrl(1)}; rel="first"`);
  return links.length > 0 ? links.join(", ") : undefined;
}
