import Fastify from "fastify";
import { request } from "undici";
import { describe, expect, it } from "vitest";
import { addSecurityHeaders, helmetHeaders } from "../../src/http/security-headers.js";

describe("security headers", () => {
  it("are helmet's defaults without a Content-Security-Policy", () => {
    const headers = helmetHeaders();
    expect(headers).toMatchObject({
      "x-content-type-options": "nosniff",
      "x-frame-options": "SAMEORIGIN",
      "referrer-policy": "no-referrer",
      "strict-transport-security": "max-age=31536000; includeSubDomains",
      "cross-origin-opener-policy": "same-origin",
      "cross-origin-resource-policy": "same-origin",
      "x-xss-protection": "0",
    });
    expect(Object.keys(headers)).not.toContain("content-security-policy");
    expect(Object.keys(headers)).not.toContain("x-powered-by");
  });

  it("reach answers that a hook sends before any route runs", async () => {
    const app = Fastify();
    addSecurityHeaders(app);
    app.addHook("onRequest", (_request, reply) => {
      reply.code(429).send({ early: true });
    });
    app.get("/", async () => ({ late: true }));
    try {
      const url = await app.listen({ host: "127.0.0.1", port: 0 });
      const response = await request(url);
      await response.body.text();
      expect(response.statusCode).toBe(429);
      expect(response.headers).toMatchObject(helmetHeaders());
    } finally {
      await app.close();
    }
  });
});
