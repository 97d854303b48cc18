import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../src/logger.js";

describe("createLogger", () => {
  it("redacts credentials wherever a log call puts them", () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, callback) {
        lines.push(String(chunk));
        callback();
      },
    });
    const logger = createLogger("info", sink);
    const token = "ghp_redactme0123456789";
    logger.info({ req: { headers: { authorization: `Bearer ${token}` } } }, "incoming");
    logger.info({ headers: { authorization: `Bearer ${token}` } }, "outgoing");
    logger.info({ config: { githubToken: token } }, "config");
    logger.info({ githubToken: token, options: { token } }, "options");
    expect(lines).toHaveLength(4);
    expect(lines.join("")).not.toContain(token);
    expect(lines.join("").match(/\[redacted\]/g)).toHaveLength(5);
  });
});
