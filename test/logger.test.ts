import { execFileSync } from "node:child_process";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../src/logger.js";
import { PROJECT_ROOT } from "../src/project-root.js";

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(String(chunk));
      callback();
    },
  });
  return { lines, destination };
}

describe("createLogger", () => {
  const token = "ghp_redactme0123456789";

  it("blanks credentials at the paths code puts them, callers' own included", () => {
    const { lines, destination } = capture();
    const logger = createLogger({ level: "info", destination });
    logger.info({ headers: { authorization: "Bearer caller-secret", cookie: "s=1" } }, "out");
    logger.info({ config: { githubToken: token } }, "config");
    logger.info({ githubToken: token, options: { token } }, "options");
    expect(lines).toHaveLength(3);
    expect(lines.join("")).not.toMatch(/caller-secret|s=1|ghp_/);
    expect(lines.join("").match(/\[redacted\]/g)).toHaveLength(5);
  });

  it("writes a request as what was asked and by whom, never its headers", () => {
    const { lines, destination } = capture();
    const logger = createLogger({ level: "info", destination });
    const request = {
      method: "GET",
      url: "/repositories?username=octocat",
      headers: { host: "service:8000", authorization: "Bearer caller-secret", cookie: "s=1" },
      socket: { remoteAddress: "203.0.113.7", remotePort: 50123 },
    };
    logger.info({ req: request }, "incoming");
    const line = JSON.parse(lines[0] ?? "{}");
    expect(line.req).toEqual({
      method: "GET",
      url: "/repositories?username=octocat",
      host: "service:8000",
      remoteAddress: "203.0.113.7",
      remotePort: 50123,
    });
    expect(lines[0]).not.toMatch(/caller-secret|s=1/);
  });

  it("replaces the service's secrets wherever they appear in a line", () => {
    const { lines, destination } = capture();
    const logger = createLogger({ level: "info", secrets: [token, undefined], destination });
    logger.info({ deep: { inside: { value: token } } }, "nested");
    logger.error({ err: new Error(`GitHub refused ${token}`) }, "failed");
    logger.info(`url https://x:${token}@example.com and ${token} again`);
    logger.info({ unrelated: "kept as it is" }, "plain");
    expect(lines).toHaveLength(4);
    expect(lines.join("")).not.toContain(token);
    // The error's message is written twice, as its message and in its stack.
    expect(
      lines
        .slice(0, 3)
        .join("")
        .match(/\[redacted\]/g),
    ).toHaveLength(5);
    expect(JSON.parse(lines[3] as string)).toMatchObject({ unrelated: "kept as it is" });
  });
});

describe("createLogger on stdout", () => {
  // A child process that logs one line with the token in it, to its own stdout.
  const program = `import { createLogger } from ${JSON.stringify(`${PROJECT_ROOT}/src/logger.ts`)};
    createLogger({ level: "info", secrets: ["ghp_tty_secret"] }).info("hello ghp_tty_secret");`;
  const args = ["--import", "tsx", "--input-type=module", "-e", program];

  it("writes JSON lines when stdout is not a terminal", () => {
    const output = execFileSync(process.execPath, args, { cwd: PROJECT_ROOT, encoding: "utf8" });
    expect(JSON.parse(output.trim())).toMatchObject({ level: 30, msg: "hello [redacted]" });
  });

  it("writes readable lines, secrets still replaced, when stdout is a terminal", () => {
    // util-linux's script(1) runs the child on a pseudo-terminal.
    const command = [process.execPath, ...args].map((arg) => `'${arg.replaceAll("'", "'\\''")}'`);
    const output = execFileSync("script", ["-qec", command.join(" "), "/dev/null"], {
      cwd: PROJECT_ROOT,
      encoding: "utf8",
    });
    expect(output).toMatch(/INFO.*hello \[redacted\]/);
    expect(output).not.toContain("ghp_tty_secret");
    expect(output).not.toContain('"level"');
  });
});
