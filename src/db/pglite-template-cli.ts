import { PGLITE_TEMPLATE, writePgliteTemplate } from "./pglite-template.js";

/** Run by `npm run build`: writes the PGlite template a new data directory starts from. */
const written = await writePgliteTemplate();
process.stdout.write(
  `PGlite template ${written ? "written to" : "already in"} ${PGLITE_TEMPLATE}\n`,
);
