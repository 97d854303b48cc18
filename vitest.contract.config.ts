import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// GitHub's recordings sit beside the project (shared/ next to the checkout), not inside it.
const projectRoot = dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  test: {
    include: ["test/contract/**/*.test.ts"],
    coverage: { enabled: false },
    env: {
      GITHUB_FIXTURES_DIR:
        process.env.GITHUB_FIXTURES_DIR ?? resolve(projectRoot, "../shared/github-fixtures"),
    },
    // .ci/run adds this count to the unit tests' in its summary line.
    reporters: ["default", ["json", { outputFile: "test-results/contract.json" }]],
  },
});
