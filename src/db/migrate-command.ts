import { ConfigError, loadConfig } from "../config/config.js";
import { type Database, openDatabase } from "./database.js";

export interface CommandOutput {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

/**
 * `npm run db:migrate` (src/db/migrate-cli.ts only calls this): applies pending migrations to
 * the database `env` configures and closes it. Resolves with the process's exit code: 0 once
 * applied, 1 with the reason on stderr for a bad configuration or a failed migration.
 */
export async function migrateCommand(
  env: Record<string, string | undefined>,
  output: CommandOutput,
): Promise<number> {
  let database: Database | undefined;
  try {
    const config = loadConfig(env);
    database = openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
    await database.migrate();
    await database.close();
    output.stdout.write(`Migrations applied (${database.kind}).\n`);
    return 0;
  } catch (error) {
    // Closed so that the process can end on its own; what this close meets (the database may
    // be closed already, or unreachable) changes nothing of the answer.
    await Promise.allSettled([database?.close()]);
    output.stderr.write(`${error instanceof ConfigError ? error.message : String(error)}\n`);
    return 1;
  }
}
