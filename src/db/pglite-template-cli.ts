import { templateCommand } from "./pglite-template.js";

/** Run by `npm run build`: writes the PGlite template a new data directory starts from. */
await templateCommand(process.stdout);
