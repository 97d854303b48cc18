import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import Type from "typebox";
import type { Database } from "../../db/database.js";
import { DatabaseUnavailableError } from "../../db/errors.js";
import type { GitHubTraffic } from "../../observability/github-traffic.js";
import { notReadyResponse } from "../schemas/common.js";

export interface HealthRoutesOptions {
  database: Database;
  github: GitHubTraffic;
}

const Status = Type.Object(
  { status: Type.String() },
  { description: "The process is up", examples: [{ status: "ok" }] },
);

const Readiness = Type.Object(
  {
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
  },
  {
    description: "The database answers",
    examples: [
      {
        status: "ready",
        checks: {
          database: "ok",
          github_budget: { limit: 60, remaining: 54, reset: "2026-12-07T15:51:04.000Z" },
        },
      },
    ],
  },
);

export const healthRoutes: FastifyPluginAsyncTypebox<HealthRoutesOptions> = async (
  app,
  { database, github },
) => {
  app.get(
    "/health",
    {
      schema: {
        operationId: "getHealth",
        summary: "200 while the process is up",
        description:
          "A liveness probe: answers as long as the process serves HTTP, without asking the database or GitHub. Never rate limited.",
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
        operationId: "getReadiness",
        summary: "200 when the database answers, 503 otherwise",
        description:
          "A readiness probe. Says what it checked: the database, and GitHub's remaining budget as last seen (which never makes the service unready: it still answers from its local copy). Never rate limited.",
        tags: ["operations"],
        response: { 200: Readiness, 503: notReadyResponse },
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
