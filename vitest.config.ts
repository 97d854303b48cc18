import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/contract/**", "node_modules/**"],
    setupFiles: ["test/setup/fast-check.ts"],
    // Finds or starts the Postgres and Redis the tests use (docs/testing.md, "Servers the tests
    // need") and puts their URLs in TEST_DATABASE_URL and TEST_REDIS_URL for the workers.
    globalSetup: ["test/setup/servers.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Test files share two cores with PGlite and the fake servers; more workers only contend.
    maxWorkers: 2,
    // The JSON report lets .ci/run print a one-line count of what ran.
    reporters: ["default", ["json", { outputFile: "test-results/unit.json" }]],
    coverage: {
      provider: "v8",
      // Every file, the entry points too: what they do runs in-process in the tests
      // (docs/testing.md, "Coverage").
      include: ["src/**/*.ts"],
      reporter: ["text-summary", "text"],
      thresholds: { lines: 90, branches: 85, statements: 90, functions: 90 },
    },
  },
});
