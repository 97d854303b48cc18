import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { GitHubClient } from "../../src/github/client.js";
import { createGitHubDispatcher } from "../../src/github/dispatcher.js";
import { GitHubBadGatewayError, GitHubRateLimitError } from "../../src/github/errors.js";

interface Scripted {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

/**
 * Answers GitHub rarely gives and the fake does not script: a stand-in server replies to each
 * path with whatever the test put under it.
 */
describe("GitHubClient's reading of unusual answers", () => {
  const script = new Map<string, Scripted>();
  let server: Server;
  let client: GitHubClient;
  let base = "";
  const dispatcher = createGitHubDispatcher({ timeoutMs: 5_000, maxRetries: 0 });

  beforeAll(async () => {
    server = createServer((request, response) => {
      const answer = script.get(request.url?.split("?")[0] ?? "") ?? { status: 404 };
      response.writeHead(answer.status, { "content-type": "application/json", ...answer.headers });
      response.end(answer.body ?? "{}");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    base = `http://127.0.0.1:${port}`;
  });
  // A client per test: one that met a rate limit asks nothing more until its reset.
  beforeEach(() => {
    client = new GitHubClient({ baseUrl: base, timeoutMs: 5_000, dispatcher });
  });
  afterAll(async () => {
    await dispatcher.close();
    server.close();
  });

  const failure = async (name: string, answer: Scripted) => {
    script.set(`/users/${name}`, answer);
    return client.getUser(name).catch((error: unknown) => error);
  };

  it("reads an HTTP-date Retry-After", async () => {
    const date = new Date(Date.now() + 90_000).toUTCString();
    const error = await failure("dated", { status: 429, headers: { "retry-after": date } });
    expect(error).toBeInstanceOf(GitHubRateLimitError);
    expect((error as GitHubRateLimitError).retryAfterSeconds).toBeGreaterThanOrEqual(88);
    expect((error as GitHubRateLimitError).retryAfterSeconds).toBeLessThanOrEqual(91);
  });

  it("asks a 429 without any hint to come back in a minute", async () => {
    const error = await failure("bare429", { status: 429 });
    expect((error as GitHubRateLimitError).retryAfterSeconds).toBe(60);
  });

  it("treats a 403 without rate-limit headers as GitHub refusing, not as a rate limit", async () => {
    const error = await failure("forbidden", {
      status: 403,
      headers: { "x-ratelimit-remaining": "4999" },
    });
    expect(error).toBeInstanceOf(GitHubBadGatewayError);
    expect((error as Error).message).toBe("GitHub answered 403");
  });

  it("reports a rejected token as a 401 from GitHub", async () => {
    const error = await failure("badtoken", { status: 401 });
    expect(error).toBeInstanceOf(GitHubBadGatewayError);
    expect((error as Error).message).toContain("credentials");
  });

  it.each([
    ["not a URL", () => '<::nonsense::>; rel="last"', /not a URL/],
    [
      "without a page number",
      () => `<${base}/user/1/repos?per_page=100>; rel="last"`,
      /without a page/,
    ],
  ])("rejects a pagination link %s", async (name, link, message) => {
    // A login per case: the listing fails on the link before its first page is read, and a
    // page still in flight is shared with an identical request.
    const login = name.replaceAll(" ", "-");
    script.set(`/users/${login}`, { status: 200, body: JSON.stringify({ id: 1, login }) });
    script.set(`/users/${login}/repos`, { status: 200, body: "[]", headers: { link: link() } });
    await expect(client.listRepositories(login)).rejects.toThrow(message);
  });
});
