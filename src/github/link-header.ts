/**
 * Parses an RFC 8288 `Link` header as GitHub sends it:
 * `<https://api.github.com/user/1/repos?page=2>; rel="next", <...>; rel="last"`.
 * Returns a map from each rel to its URL.
 */
export function parseLinkHeader(header: string | undefined): Map<string, string> {
  const links = new Map<string, string>();
  if (!header) return links;
  for (const part of header.split(",")) {
    const match = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
    if (!match) continue;
    const [, url, params] = match as unknown as [string, string, string];
    const rel = /(?:^|;)\s*rel\s*=\s*"?([^";]+)"?/i.exec(params)?.[1];
    if (!rel) continue;
    for (const name of rel.trim().split(/\s+/)) links.set(name.toLowerCase(), url);
  }
  return links;
}
