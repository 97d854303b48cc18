import { migrateCommand } from "./migrate-command.js";

/** `npm run db:migrate`, `node dist/db/migrate-cli.js` in the image: see migrate-command.ts. */
process.exitCode = await migrateCommand(process.env, process);
