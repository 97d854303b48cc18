import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { DatabaseConflictError, DatabaseUnavailableError } from "../db/errors.js";
import { GitHubError } from "../github/errors.js";
import { NotSavedError } from "../repositories/service.js";
import { PARAMETER_HINTS } from "./schemas/common.js";

export interface Problem {
  status: number;
  /** A stable identifier of the kind of problem; see docs/api.md. */
  type: string;
  title: string;
  detail: string;
  headers?: Record<string, string>;
}

const DATABASE_RETRY_AFTER_SECONDS = 5;

/** The RFC 9457 body of a problem; `instance` is the path it concerns, when there is a request. */
export function problemBody(problem: Problem, instance?: string) {
  const { headers: _, ...body } = problem;
  return {
    ...body,
    type: `urn:problem:${body.type}`,
    ...(instance === undefined ? {} : { instance }),
  };
}

export function sendProblem(request: FastifyRequest, reply: FastifyReply, problem: Problem) {
  if (problem.headers) reply.headers(problem.headers);
  return reply
    .code(problem.status)
    .type("application/problem+json")
    .send(problemBody(problem, request.url.split("?")[0]));
}

const LOCATION_NAMES: Record<string, string> = {
  querystring: "Query parameter",
  params: "Path parameter",
  headers: "Header",
  body: "Body field",
};

/** A 400 whose detail names the parameter and says what to send instead. */
function validationProblem(error: FastifyError): Problem {
  const [first] = error.validation ?? [];
  const location = LOCATION_NAMES[error.validationContext ?? ""] ?? "Parameter";
  const missing = (first?.params as { missingProperty?: string } | undefined)?.missingProperty;
  const parameter = missing ?? first?.instancePath.replace(/^\//, "").split("/")[0] ?? "";
  const hint = PARAMETER_HINTS[parameter];
  const expectation = hint ? `Send ${parameter} as ${hint}.` : "Check the request against /docs.";
  const fault = missing
    ? "is missing"
    : first?.keyword === "type"
      ? "must be given once, as a single value"
      : "is malformed";
  return {
    status: 400,
    type: "invalid-parameter",
    title: "Invalid request parameter",
    detail: `${location} "${parameter}" ${fault}. ${expectation}`,
  };
}

// Listings take about a second each under load, so a busy service has room again soon.
const BUSY_RETRY_AFTER_SECONDS = 2;

function githubProblem(error: GitHubError): Problem {
  switch (error.kind) {
    case "not-found":
      return {
        status: 404,
        type: "not-found",
        title: "Not found",
        detail: `${error.message}. Check the spelling of the user and repository names.`,
      };
    case "rate-limited": {
      const seconds = (error as GitHubError & { retryAfterSeconds: number }).retryAfterSeconds;
      return {
        status: 503,
        type: "github-rate-limited",
        title: "GitHub rate limit used up",
        detail: `${error.message}. Retry after ${seconds} seconds.`,
        headers: { "retry-after": String(seconds) },
      };
    }
    case "timeout":
      return {
        status: 504,
        type: "github-timeout",
        title: "GitHub did not answer in time",
        detail: `${error.message}. Retry later.`,
      };
    case "busy":
      return {
        status: 503,
        type: "service-busy",
        title: "The service is busy",
        detail: `${error.message}. Retry after ${BUSY_RETRY_AFTER_SECONDS} seconds.`,
        headers: { "retry-after": String(BUSY_RETRY_AFTER_SECONDS) },
      };
    case "bad-gateway":
      return {
        status: 502,
        type: "github-bad-gateway",
        title: "GitHub failed",
        detail: `${error.message}. Retry later.`,
      };
  }
}

/** Maps everything a handler can throw to problem details; anything unforeseen is a 500. */
function problemFor(error: FastifyError | Error): Problem {
  if ("validation" in error && error.validation) return validationProblem(error);
  if (error instanceof GitHubError) return githubProblem(error);
  if (error instanceof NotSavedError) {
    return {
      status: 404,
      type: "not-saved",
      title: "Nothing saved for this user",
      detail: `${error.message}. Save the whole account with GET /repositories/?username={username}&save_data=true, or one of its repositories with GET /repositories/{owner}/{name}?save_data=true; or ask GitHub with from_local=false.`,
    };
  }
  if (error instanceof DatabaseUnavailableError) {
    return {
      status: 503,
      type: "database-unavailable",
      title: "Database unavailable",
      detail: `The database is unreachable. Retry after ${DATABASE_RETRY_AFTER_SECONDS} seconds.`,
      headers: { "retry-after": String(DATABASE_RETRY_AFTER_SECONDS) },
    };
  }
  if (error instanceof DatabaseConflictError) {
    return {
      status: 503,
      type: "database-busy",
      title: "Database busy",
      detail: `${error.message}. Retry after ${BUSY_RETRY_AFTER_SECONDS} seconds.`,
      headers: { "retry-after": String(BUSY_RETRY_AFTER_SECONDS) },
    };
  }
  if (error.name === "AbortError") {
    // request.signal aborted: the caller left, and what was being done for it was cancelled.
    // Nobody reads this answer; its status says so in the log (as nginx's 499 does).
    return {
      status: 499,
      type: "client-closed-request",
      title: "Client closed the request",
      detail: "The caller left before the answer was ready, so its work was cancelled.",
    };
  }
  if ((error as FastifyError).code === "FST_ERR_CTP_BODY_TOO_LARGE") {
    return {
      status: 413,
      type: "content-too-large",
      title: "Content too large",
      detail: "The request's body is too large. The API takes no request bodies: send none.",
    };
  }
  const statusCode = (error as FastifyError).statusCode;
  if (statusCode !== undefined && statusCode >= 400 && statusCode < 500) {
    const limited = statusCode === 429;
    return {
      status: statusCode,
      type: limited ? "rate-limited" : "bad-request",
      title: limited ? "Too many requests" : "Bad request",
      detail: limited ? `${error.message}.` : `${error.message}. Check the request against /docs.`,
    };
  }
  return {
    status: 500,
    type: "internal",
    title: "Internal server error",
    detail:
      "The service failed unexpectedly; the error is logged. Retry, and report it if it persists.",
  };
}

/** Every error and unknown route answers with problem details. */
export function registerProblemHandlers(app: FastifyInstance) {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const problem = problemFor(error);
    if (problem.status === 500) {
      request.log.error({ err: error }, "request failed");
    } else if (problem.status >= 500) {
      request.log.warn({ problem: problem.type, reason: error.message }, problem.title);
    } else {
      request.log.info({ problem: problem.type, status: problem.status }, problem.title);
    }
    return sendProblem(request, reply, problem);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(request, reply, {
      status: 404,
      type: "no-such-endpoint",
      title: "No such endpoint",
      detail: `Nothing answers ${request.method} ${request.url.split("?")[0]}. See /docs for the endpoints.`,
    }),
  );
}
