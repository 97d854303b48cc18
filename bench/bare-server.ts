import { readFileSync } from "node:fs";
import Fastify from "fastify";
import { Problem } from "../src/http/schemas/common.js";
import {
  listRepositoriesSchema,
  repositoryByOwnerSchema,
} from "../src/http/schemas/repositories.js";

/**
 * The yardstick for B2 and B3: the same Fastify, the same route schemas (so the same validation
 * and the same compiled serialiser), answering the service's own JSON from memory. Whatever the
 * service does beyond this (logging, security headers, the database, the GitHub client) is what
 * the comparison measures.
 */
const bodies = JSON.parse(readFileSync(process.env.BARE_BODIES as string, "utf8")) as {
  listing: unknown;
  details: unknown;
};

const app = Fastify({ routerOptions: { ignoreTrailingSlash: true } });
// The routes' error answers refer to the one shared problem schema, as in src/app.ts.
app.addSchema(Problem);
app.get("/repositories", { schema: listRepositoriesSchema }, async () => bodies.listing);
app.get(
  "/repositories/:owner/:name",
  { schema: repositoryByOwnerSchema },
  async () => bodies.details,
);
app.get("/ready", async () => ({ status: "ready" }));

await app.listen({ port: Number(process.env.PORT), host: "127.0.0.1" });
