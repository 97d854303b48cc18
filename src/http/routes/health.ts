import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import Type from "typebox";
import type { Database } from "../../db/database.js";
import { DatabaseUnavailableError } from "../../db/errors.js";
import { Problem } from "../schemas/common.js";

export interface HealthRoutesOptions {
  database: Database;
}

const Status = Type.Object({ status: Type.String() });

export const healthRoutes: FastifyPluginAsyncTypebox<HealthRoutesOptions> = async (
  app,
  { database },
) => {
  app.get(
    "/health",
    {
      schema: {
        summary: "200 while the process is up",
        tags: ["operations"],
        response: { 200: Status },
      },
    },
    async () => ({ status: "ok" }),
  );

  app.get(
    "/ready",
    {
      schema: {
        summary: "200 when the database answers, 503 otherwise",
        tags: ["operations"],
        response: { 200: Status, 503: Problem },
      },
    },
    async () => {
      try {
        await database.ping();
      } catch (error) {
        throw new DatabaseUnavailableError(error);
      }
      return { status: "ready" };
    },
  );
};
