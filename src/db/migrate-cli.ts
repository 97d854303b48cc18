import { ConfigError, loadConfig } from "../config/config.js";
import { openDatabase } from "./database.js";

/** `npm run db:migrate`: applies pending migrations to the configured database, then exits. */
try {
  const config = loadConfig(process.env);
  const database = openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
  await database.migrate();
  await database.close();
  process.stdout.write(`Migrations applied (${database.kind}).\n`);
} catch (error) {
  process.stderr.write(`${error instanceof ConfigError ? error.message : String(error)}\n`);
  process.exit(1);
}
