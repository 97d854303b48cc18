import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { gunzipSync } from "node:zlib";

/** One recorded request and answer, whatever tool recorded it. */
export interface Exchange {
  method: string;
  url: string;
  status: number;
  /** Lower-cased names; a header sent twice (GitHub's Vary) keeps both values. */
  headers: Record<string, string[]>;
  /** The decoded body text, "" when there was none. */
  body: string;
}

/**
 * The fixtures live beside the project, not in it: `../shared/github-fixtures` from the project
 * root. vitest.contract.config.ts passes the resolved path; running from the root works too.
 */
export function fixturesDir(): string {
  const dir =
    process.env.GITHUB_FIXTURES_DIR ?? resolve(process.cwd(), "../shared/github-fixtures");
  if (!existsSync(resolve(dir, "MANIFEST.txt"))) {
    throw new Error(
      `GitHub recordings not found at ${dir}: the contract check needs the shared fixtures ` +
        "(shared/github-fixtures beside the project, with MANIFEST.txt). Set GITHUB_FIXTURES_DIR " +
        "to point elsewhere.",
    );
  }
  return dir;
}

function readJson(file: string): unknown {
  return JSON.parse(readFileSync(resolve(fixturesDir(), file), "utf8"));
}

function addHeader(headers: Record<string, string[]>, name: string, value: unknown) {
  const values = Array.isArray(value) ? value.map(String) : [String(value)];
  const key = name.toLowerCase();
  headers[key] = [...(headers[key] ?? []), ...values];
}

export function header(exchange: Exchange, name: string): string | undefined {
  return exchange.headers[name.toLowerCase()]?.join(", ");
}

export function bodyJson<T = unknown>(exchange: Exchange): T {
  return JSON.parse(exchange.body) as T;
}

interface NockEntry {
  scope: string;
  method: string;
  path: string;
  status: number;
  response: unknown;
  rawHeaders: string[];
  responseIsBinary?: boolean;
}

/** octokit/fixtures: nock's JSON, with headers as a flat `rawHeaders` name/value list. */
export function readNock(file: string): Exchange[] {
  return (readJson(file) as NockEntry[]).map((entry) => {
    if (entry.responseIsBinary) throw new Error(`${file}: binary nock bodies are not supported`);
    const headers: Record<string, string[]> = {};
    for (let i = 0; i + 1 < entry.rawHeaders.length; i += 2) {
      addHeader(headers, entry.rawHeaders[i] as string, entry.rawHeaders[i + 1]);
    }
    const body =
      typeof entry.response === "string" ? entry.response : JSON.stringify(entry.response);
    return {
      method: entry.method.toUpperCase(),
      url: `${entry.scope.replace(/:443$/, "")}${entry.path}`,
      status: entry.status,
      headers,
      body,
    };
  });
}

interface CassetteInteraction {
  request: { method: string; uri: string };
  response: {
    status: { code: number };
    headers: Record<string, string | string[]>;
    body: { string?: string; base64_string?: string };
  };
}

/**
 * betamax (github3.py) and VCR (octokit.rb) share one layout. Bodies are either plain `string`
 * or `base64_string`; betamax stores gzip-encoded bodies as GitHub sent them, hence the gunzip
 * (by Content-Encoding, or by the gzip magic bytes when a recorder dropped that header).
 */
function readCassette(file: string): Exchange[] {
  const cassette = readJson(file) as { http_interactions: CassetteInteraction[] };
  return cassette.http_interactions.map(({ request, response }) => {
    const headers: Record<string, string[]> = {};
    for (const [name, value] of Object.entries(response.headers)) addHeader(headers, name, value);
    let body = response.body.string ?? "";
    if (response.body.base64_string) {
      const raw = Buffer.from(response.body.base64_string, "base64");
      const gzipped = raw[0] === 0x1f && raw[1] === 0x8b;
      body = (gzipped ? gunzipSync(raw) : raw).toString("utf8");
    }
    return {
      method: request.method.toUpperCase(),
      url: request.uri,
      status: response.status.code,
      headers,
      body,
    };
  });
}

/** github3.py cassettes; header values are strings in betamax 0.4-0.8.0 and lists from 0.8.1. */
export function readBetamax(file: string): Exchange[] {
  return readCassette(file);
}

/** octokit.rb cassettes; header values are always lists, names in Ruby's Title-Case. */
export function readVcr(file: string): Exchange[] {
  return readCassette(file);
}

/** The recorded exchange for `method url`, failing loudly if the fixture changed. */
export function findExchange(
  exchanges: Exchange[],
  method: string,
  urlPart: string | RegExp,
): Exchange {
  const found = exchanges.find(
    (exchange) =>
      exchange.method === method &&
      (typeof urlPart === "string" ? exchange.url.endsWith(urlPart) : urlPart.test(exchange.url)),
  );
  if (!found) throw new Error(`no recorded ${method} ${urlPart}`);
  return found;
}
