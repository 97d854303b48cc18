import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The nearest directory at or above `start` that holds a package.json. */
export function findProjectRoot(start: string): string {
  for (let directory = start; ; directory = dirname(directory)) {
    if (existsSync(join(directory, "package.json"))) return directory;
    if (dirname(directory) === directory) {
      throw new Error(`no package.json in ${start} or above it`);
    }
  }
}

/**
 * The project's root, where the files that ship beside the code are (drizzle/, and dist/ with
 * the PGlite template). Found upward rather than at a fixed depth: this module runs from src/
 * under tsx and the tests, and from dist/ inside the bundle, where every module shares the
 * bundle's location.
 */
export const PROJECT_ROOT = findProjectRoot(dirname(fileURLToPath(import.meta.url)));
