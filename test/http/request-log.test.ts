import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "../helpers/harness.js";

describe("request logging", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
    h.fake.addUser({ login: "octocat", repoCount: 2 });
  });
  afterAll(() => h.close());

  it("writes one line per request, once answered, with what was asked, the status and the time", async () => {
    h.logs.length = 0;
    const paths = ["/repositories?username=octocat", "/repositories?username=ghost", "/nothing"];
    for (const path of paths) await h.get(path);
    const lines = h.logs.map((line) => JSON.parse(line)).filter((line) => line.req);
    expect(h.logs.join("\n")).not.toContain("incoming request");
    expect(
      lines.map((line) => [line.msg, line.req.method, line.req.url, line.res.statusCode]),
    ).toEqual([
      ["request completed", "GET", paths[0], 200],
      ["request completed", "GET", paths[1], 404],
      ["request completed", "GET", paths[2], 404],
    ]);
    for (const line of lines) {
      expect(line.responseTime).toBeGreaterThan(0);
      expect(line.req.remoteAddress).toBe("127.0.0.1");
    }
  });
});
