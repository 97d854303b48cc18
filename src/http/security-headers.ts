import type { FastifyInstance } from "fastify";

/**
 * helmet's default headers (version 8) without its Content-Security-Policy, which the JSON
 * endpoints do not need and Swagger UI's page could not live with. None depends on the request,
 * so they are a literal set: running helmet's middlewares on every request cost about a fifth
 * of a repeated details request. test/http/security-headers.test.ts holds this set to what
 * helmet itself sets, so an upgrade that changes its defaults shows up there.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
  "origin-agent-cluster": "?1",
  "referrer-policy": "no-referrer",
  "strict-transport-security": "max-age=31536000; includeSubDomains",
  "x-content-type-options": "nosniff",
  "x-dns-prefetch-control": "off",
  "x-download-options": "noopen",
  "x-frame-options": "SAMEORIGIN",
  "x-permitted-cross-domain-policies": "none",
  "x-xss-protection": "0",
});

/** Adds the security headers to every answer, problems and early answers included. */
export function addSecurityHeaders(app: FastifyInstance): void {
  app.addHook("onRequest", (_request, reply, done) => {
    reply.headers(SECURITY_HEADERS);
    done();
  });
}
