import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { IMAGE_COMMAND } from "../../bench/image-command.js";

// What the image does when run is checked by scripts/container-smoke.sh, which replays the
// Dockerfile; these are the agreements between files that a replay does not see.
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const read = (file: string) => readFileSync(join(ROOT, file), "utf8");

describe("the Dockerfile and its build context", () => {
  it("exposes the port docker-compose.yml publishes", () => {
    const exposed = /^EXPOSE\s+(\d+)$/m.exec(read("Dockerfile"))?.[1];
    const [published] = parse(read("docker-compose.yml")).services.api.ports;
    expect(Number(exposed)).toBe(published.target);
  });

  it("leaves dependencies, data, git and build and test output out of the context", () => {
    const patterns = read(".dockerignore")
      .split("\n")
      .filter((line) => line !== "" && !line.startsWith("#"));
    for (const expected of [
      "**/node_modules",
      "data",
      ".git",
      "coverage",
      "test-results",
      "dist",
    ]) {
      expect(patterns).toContain(expected);
    }
  });

  it("runs as a user other than root", () => {
    const users = [...read("Dockerfile").matchAll(/^USER\s+(\S+)$/gm)].map((match) => match[1]);
    expect(users.at(-1)).toBeDefined();
    expect(["root", "0"]).not.toContain(users.at(-1));
  });

  it("starts the service as the bench does, and as `npm start` does but for the image's flags", () => {
    const dockerfile = read("Dockerfile");
    const command = /^CMD\s+(\[.*\])$/m.exec(dockerfile)?.[1];
    expect(JSON.parse(command ?? "null")).toEqual(["node", ...IMAGE_COMMAND.args]);
    // npm start runs no runtime flags: they belong to the image alone. It builds nothing either:
    // `npm ci` built the service already (prepare).
    const scripts = JSON.parse(read("package.json")).scripts;
    expect(scripts.start).toBe(`node ${IMAGE_COMMAND.args.at(-1)}`);
    expect(scripts.prepare).toBe("npm run build");
  });
});
