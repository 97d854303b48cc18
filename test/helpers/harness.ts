import { FakeGitHub } from "../fake-github/server.js";
import { type Backend, openTestDatabase, type TestDatabase } from "./databases.js";
import { type InProcessService, startInProcessService } from "./in-process-service.js";

export interface Harness extends InProcessService {
  fake: FakeGitHub;
  test: TestDatabase;
}

export interface HarnessOptions {
  backend?: Backend;
  env?: Record<string, string>;
  fake?: FakeGitHub;
}

/**
 * The whole service over real HTTP on 127.0.0.1: the app as server.ts builds it, a fake GitHub
 * server, and a fresh, migrated database of the chosen backend.
 */
export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const fake = options.fake ?? (await FakeGitHub.start());
  const test = await openTestDatabase(options.backend ?? "pglite");
  const service = await startInProcessService({
    database: test.database,
    githubUrl: fake.url,
    env: { GITHUB_TIMEOUT_MS: "2000", ...options.env },
  });
  return {
    ...service,
    fake,
    test,
    async close() {
      await service.close();
      await test.dispose();
      if (!options.fake) await fake.close();
    },
  };
}
