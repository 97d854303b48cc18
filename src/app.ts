import cors from "@fastify/cors";
import rateLimit from "@fastify/rate-limit";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { Redis } from "ioredis";
import type { Config } from "./config/config.js";
import type { Database } from "./db/database.js";
import { RepositoryStore } from "./db/repository-store.js";
import type { GitHubClient } from "./github/client.js";
import { answerClientError } from "./http/client-errors.js";
import { documentFor, openApiTransforms } from "./http/openapi.js";
import { registerProblemHandlers, sendProblem } from "./http/problem.js";
import { REQUEST_ID_HEADER, requestIdOf } from "./http/request-id.js";
import { OneLinePerRequest } from "./http/request-log.js";
import { healthRoutes } from "./http/routes/health.js";
import { metricsRoutes, UNMEASURED_ROUTES } from "./http/routes/metrics.js";
import { repositoryRoutes } from "./http/routes/repositories.js";
import { Problem } from "./http/schemas/common.js";
import { addSecurityHeaders } from "./http/security-headers.js";
import { createLogger } from "./logger.js";
import { Metrics } from "./observability/metrics.js";
import { Refresher } from "./refresh/refresher.js";
import { RepositoryService } from "./repositories/service.js";

export interface AppDependencies {
  config: Config;
  database: Database;
  github: GitHubClient;
  /** With REDIS_URL: the rate limit counts here, across replicas. The caller closes it. */
  redis?: Redis | undefined;
  /** Defaults to a logger on stdout at the configured level. */
  logger?: FastifyBaseLogger;
}

// The API takes no request bodies and its URLs are short; anything larger is refused early.
const BODY_LIMIT_BYTES = 1024;
const URL_LIMIT_CHARS = 2048;
const HEADERS_TIMEOUT_MS = 10_000;
const KEEP_ALIVE_TIMEOUT_MS = 5_000;

/**
 * Builds the HTTP application from its dependencies. Nothing here opens connections or
 * listens: the caller owns the database and GitHub client and closes them.
 */
export async function buildApp(deps: AppDependencies): Promise<FastifyInstance> {
  const { config, database, github } = deps;
  const app = Fastify({
    loggerInstance:
      deps.logger ??
      (createLogger({
        level: config.logLevel,
        secrets: [config.githubToken],
      }) as FastifyBaseLogger),
    bodyLimit: BODY_LIMIT_BYTES,
    // Headers must arrive within 10 s (checked every second); an idle keep-alive connection is
    // closed after 5 s. Node's defaults are 60 s and 5 s checked every 30 s.
    http: { headersTimeout: HEADERS_TIMEOUT_MS, connectionsCheckingInterval: 1_000 },
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    clientErrorHandler: answerClientError,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 256 },
    // Bounds receiving a request, not answering it: each route's own bounds do that (see
    // docs/reliability.md, "An overall deadline").
    requestTimeout: config.githubTimeoutMs * 3,
    logController: new OneLinePerRequest(),
    genReqId: requestIdOf,
  }).withTypeProvider<TypeBoxTypeProvider>();
  // Connections beyond it are closed as they arrive, before they cost a request's memory.
  app.server.maxConnections = config.maxConnections;

  // onSend, not onRequest: answers Fastify sends before routing (a malformed URL) carry it too.
  app.addHook("onSend", (request, reply, payload, done) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    done(null, payload);
  });
  registerProblemHandlers(app);
  addSecurityHeaders(app);
  // Callback style: an async hook costs a promise on every request to check a length.
  app.addHook("onRequest", (request, reply, done) => {
    if (request.url.length <= URL_LIMIT_CHARS) return done();
    sendProblem(request, reply, {
      status: 414,
      type: "uri-too-long",
      title: "URI too long",
      detail: `The URL is longer than ${URL_LIMIT_CHARS} characters. Shorten it.`,
    });
  });
  if (config.corsOrigins.length > 0) {
    await app.register(cors, {
      origin: config.corsOrigins.includes("*") ? "*" : config.corsOrigins,
      methods: ["GET"],
    });
  }
  if (config.rateLimitPerMinute > 0) {
    await app.register(rateLimit, {
      max: config.rateLimitPerMinute,
      timeWindow: 60_000,
      // Redis away or slow: requests go uncounted rather than refused.
      ...(deps.redis === undefined ? {} : { redis: deps.redis, skipOnError: true }),
      allowList: (request) =>
        request.routeOptions.url !== undefined && UNMEASURED_ROUTES.has(request.routeOptions.url),
      errorResponseBuilder: (_request, context) =>
        Object.assign(
          new Error(
            `More than ${context.max} requests in a minute came from this client. Retry after ${Math.ceil(context.ttl / 1000)} seconds`,
          ),
          { statusCode: 429 },
        ),
    });
  }

  // Before the routes that refer to it: the one schema of every error answer.
  app.addSchema(Problem);
  await app.register(swagger, {
    openapi: {
      openapi: "3.0.3",
      info: {
        title: "GitHub repositories service",
        version: "1.0.0",
        description:
          "Serves GitHub users' repositories straight from the GitHub REST API, or from a local copy of what callers asked to save. Errors are RFC 9457 problem details (application/problem+json). Booleans in the query string take true/false, 1/0, yes/no, on/off, in any letter case. A trailing slash never matters.",
      },
      // No operation needs credentials: callers are anonymous.
      security: [],
      tags: [
        { name: "repositories", description: "Listings and details, from GitHub or saved" },
        { name: "operations", description: "Probes and metrics for whoever runs the service" },
      ],
    },
    ...openApiTransforms,
  });
  await app.register(swaggerUi, {
    routePrefix: "/docs",
    transformSpecification: (document, request) => documentFor(document, request),
  });
  app.get("/openapi.json", { schema: { hide: true } }, async (request) =>
    documentFor(app.swagger(), request),
  );

  const store = new RepositoryStore(database.db);
  const service = new RepositoryService({
    github,
    store,
    allowPrivateRepos: config.allowPrivateRepos,
  });
  const metrics = new Metrics({ githubApiUrl: config.githubApiUrl, database, cache: github.cache });
  app.addHook("onClose", (_app, done) => {
    metrics.close();
    done();
  });
  if (config.refreshIntervalS > 0) {
    const refresher = new Refresher({
      intervalS: config.refreshIntervalS,
      reserve: config.refreshReserve,
      service,
      store,
      budget: () => metrics.github.lowestBudget(),
      log: app.log.child({ component: "refresher" }),
      counts: metrics.refresh,
    });
    // Rounds begin once the app serves, and end before the caller closes the database.
    app.addHook("onReady", async () => refresher.start());
    app.addHook("onClose", async () => refresher.stop());
  }
  // Off, the registry still reads GitHub's budget for /ready and the refresher; only the scrape
  // and the per-request measuring are left out.
  if (config.metrics) await app.register(metricsRoutes, { metrics });
  await app.register(healthRoutes, { database, github: metrics.github });
  await app.register(repositoryRoutes, { service });
  return app;
}
