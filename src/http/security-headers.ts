import type { IncomingMessage, ServerResponse } from "node:http";
import type { FastifyInstance } from "fastify";
import helmet from "helmet";

/**
 * The headers helmet sets by default, found by running its middleware once against a
 * recording response. Without its Content-Security-Policy (the JSON endpoints need none, and
 * Swagger UI's page would need its own) they depend on nothing in the request, so they are
 * computed once: running helmet's eleven middlewares on every request cost about a fifth of a
 * repeated details request.
 */
export function helmetHeaders(): Record<string, string> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers[name.toLowerCase()] = String(value);
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()];
    },
  };
  helmet({ contentSecurityPolicy: false })(
    {} as IncomingMessage,
    recorder as unknown as ServerResponse,
    (error) => {
      if (error) throw error;
    },
  );
  return headers;
}

/** Adds helmet's headers to every answer, problems included, from one precomputed set. */
export function addSecurityHeaders(app: FastifyInstance): void {
  const headers = helmetHeaders();
  app.addHook("onRequest", (_request, reply, done) => {
    reply.headers(headers);
    done();
  });
}
