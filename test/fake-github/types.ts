export interface FakeUserInit {
  login: string;
  id?: number;
  type?: "User" | "Organization";
  /** Generate this many public repositories, named like `repo-0001`, `Zeta-0002`, `web.app-0003`. */
  repoCount?: number;
}

export interface FakeRepoInit {
  name: string;
  id?: number;
  private?: boolean;
  visibility?: "public" | "private" | "internal";
  stargazers_count?: number;
  subscribers_count?: number;
  size?: number;
  created_at?: string;
  updated_at?: string;
  /** Answer without `visibility`, as GitHub did before 2021. */
  omitVisibility?: boolean;
}

export interface FakeUserHandle {
  id: number;
  login: string;
}

export interface FakeRepoHandle {
  id: number;
  name: string;
  full_name: string;
}

export type FaultKind =
  | "5xx-once" // next matching request gets 502 (or `status`), then normal
  | "5xx-always" // every matching request gets 502 (or `status`)
  | "hang" // accept the request and never answer (until close)
  | "reset" // destroy the socket without answering
  | "truncated" // send headers with a content-length larger than the body, then end the socket
  | "malformed" // 200 with a body that is not valid JSON (or `body`)
  | "rate-limit" // 403 primary rate limit: x-ratelimit-remaining: 0 and x-ratelimit-reset
  | "secondary-rate-limit" // 403 with Retry-After and the secondary rate limit message
  | "redirect-loop" // 301 to itself, forever
  | "redirect-away" // 301 to `location`, another host or path
  | "inflated-link" // the normal answer, with a Link whose rel="last" says page `lastPage`
  | "oversized"; // 200 with a valid JSON array of `bytes` bytes

export interface FaultSpec {
  kind: FaultKind;
  /** Matched against the pathname: a string must equal it, a RegExp must match it. Default: all. */
  path?: string | RegExp;
  /** Status to answer with: 5xx kinds (default 502), rate-limit kinds (default 403, or 429). */
  status?: number;
  /** Retry-After for secondary-rate-limit (default 60); seconds until x-ratelimit-reset for rate-limit. */
  retryAfterSeconds?: number;
  /** How many matching requests get it; default 1 for 5xx-once, Infinity otherwise. */
  times?: number;
  /** 0..1, default 1; drawn from the fake's seeded generator, so runs repeat. */
  probability?: number;
  /** For malformed: the 200 body to send instead of the default invalid JSON (e.g. a wrong shape). */
  body?: string;
  /** For redirect-away: where the 301 points. */
  location?: string;
  /** For inflated-link: the page its rel="last" names (default 100000). */
  lastPage?: number;
  /** For oversized: the body's size (default 50 MB). */
  bytes?: number;
}

export interface RecordedRequest {
  method: string;
  /** pathname + search, as received. */
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** The status answered; 0 while unanswered and for hang and reset faults. */
  status: number;
  /**
   * The paths of the requests unanswered when this one arrived, itself included: what a client
   * had in flight at that moment, read without sampling.
   */
  inFlightOnArrival: string[];
}
