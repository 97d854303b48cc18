import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { findProjectRoot, PROJECT_ROOT } from "../src/project-root.js";

const scratch = await mkdtemp(join(tmpdir(), "project-root-"));

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe("findProjectRoot", () => {
  it("finds the nearest package.json above a nested directory", async () => {
    const nested = join(scratch, "app", "dist", "db");
    await mkdir(nested, { recursive: true });
    await writeFile(join(scratch, "app", "package.json"), "{}");
    expect(findProjectRoot(nested)).toBe(join(scratch, "app"));
    expect(findProjectRoot(join(scratch, "app"))).toBe(join(scratch, "app"));
  });

  it("fails plainly when no directory up to the filesystem's root has one", async () => {
    const bare = join(scratch, "bare");
    await mkdir(bare);
    expect(() => findProjectRoot(bare)).toThrow(`no package.json in ${bare} or above it`);
  });

  it("is this project's root, where drizzle/ is", () => {
    expect(PROJECT_ROOT).toBe(fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, ""));
  });
});
