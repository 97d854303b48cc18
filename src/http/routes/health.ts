import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import Type from "typebox";
import type { Database } from "../../db/database.js";
import { DatabaseUnavailableError } from "../../db/errors.js";
import type { GitHubTraffic } from "../../observability/github-traffic.js";
import { Problem } from "../schemas/common.js";

export interface HealthRoutesOptions {
  database: Database;
  github: GitHubTraffic;
}

const Status = Type.Object({ status: Type.String() });

const Readiness = Type.Object({
  status: Type.Literal("ready"),
  checks: Type.Object({
    database: Type.Literal("ok"),
    github_budget: Type.Union(
      [
        Type.Object({
          limit: Type.Integer(),
          remaining: Type.Integer(),
          reset: Type.String({ format: "date-time" }),
        }),
        Type.Null(),
      ],
      {
        description:
          "GitHub's rate limit as its latest answer stated it (the token with the least left); null before the first GitHub request",
      },
    ),
  }),
});

export const healthRoutes: FastifyPluginAsyncTypebox<HealthRoutesOptions> = async (
  app,
  { database, github },
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
        description:
          "Says what it checked: the database, and GitHub's remaining budget as last seen (which never makes the service unready: it still answers from its local copy).",
        tags: ["operations"],
        response: { 200: Readiness, 503: Problem },
      },
    },
    async () => {
      try {
        await database.ping();
      } catch (error) {
        throw new DatabaseUnavailableError(error);
      }
      const budget = github.lowestBudget();
      return {
        status: "ready" as const,
        checks: {
          database: "ok" as const,
          github_budget: budget
            ? { ...budget, reset: new Date(budget.reset * 1000).toISOString() }
            : null,
        },
      };
    },
  );
};
