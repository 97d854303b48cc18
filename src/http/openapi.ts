import type { FastifyDynamicSwaggerOptions } from "@fastify/swagger";
import type { FastifyRequest } from "fastify";
import { BOOLEAN_WORD_PATTERN } from "../config/boolean-words.js";
import { documentedBoolean } from "./schemas/common.js";

/**
 * How the OpenAPI document differs from the schemas the routes validate with, all in one place:
 *
 * - A boolean word in the query string is validated as a pattern (it takes 1/0, yes/no, on/off
 *   too) but documented as a boolean offered `false` first (`documentedBoolean`), so Swagger UI
 *   shows a true/false choice and generated clients get a boolean.
 * - The listing is declared at `/repositories/` as well: API.md and the README spell it with the
 *   slash, and a validating proxy (Prism) would otherwise take that path for `/repositories/{name}`.
 * - Shared schemas (`Problem`) keep their `$id` as their component's name.
 *
 * The routes' own schemas are never changed: the document is built from copies.
 */

interface JsonObjectSchema {
  type?: string;
  properties?: Record<string, { pattern?: string; description?: string }>;
  required?: string[];
}

/** Listed once in the document, at both spellings of its path. */
const LISTING_PATH = "/repositories";
const LISTING_PATH_WITH_SLASH = "/repositories/";

function documentedQuerystring(querystring: JsonObjectSchema): JsonObjectSchema {
  const properties = Object.fromEntries(
    Object.entries(querystring.properties ?? {}).map(([name, property]) => [
      name,
      property.pattern === BOOLEAN_WORD_PATTERN
        ? documentedBoolean(property, querystring.required?.includes(name) ?? false)
        : property,
    ]),
  );
  return { ...querystring, properties };
}

type OpenApiDocument = {
  paths?: Record<string, Record<string, { operationId?: string; summary?: string }>>;
} & Record<string, unknown>;

export const openApiTransforms: Pick<
  FastifyDynamicSwaggerOptions,
  "transform" | "transformObject" | "refResolver"
> = {
  transform: ({ schema, url }) => {
    if (schema?.querystring === undefined) return { schema, url };
    return {
      schema: {
        ...schema,
        querystring: documentedQuerystring(schema.querystring as JsonObjectSchema),
      },
      url,
    };
  },
  // Registered with `openapi` options, so the object is always an OpenAPI 3 one.
  transformObject: (documentObject) => {
    const document = (documentObject as { openapiObject: unknown })
      .openapiObject as OpenApiDocument;
    const listing = document.paths?.[LISTING_PATH]?.get;
    if (document.paths && listing) {
      document.paths[LISTING_PATH_WITH_SLASH] = {
        get: {
          ...listing,
          operationId: `${listing.operationId}WithSlash`,
          summary: `${listing.summary} (the same, as API.md spells it: with a trailing slash)`,
        },
      };
    }
    return document as never;
  },
  refResolver: {
    buildLocalReference: (json, _baseUri, _fragment, index) =>
      typeof json.$id === "string" ? json.$id : `def-${index}`,
  },
};

/**
 * The document with `servers` naming the origin the caller reached, so Swagger UI and other
 * tools send their requests where the document came from (behind a proxy, with the host and
 * protocol it forwards when `trustProxy` is set).
 */
export function documentFor<T extends object>(document: T, request: FastifyRequest): T {
  return {
    ...document,
    servers: [{ url: `${request.protocol}://${request.host}`, description: "This service" }],
  };
}
