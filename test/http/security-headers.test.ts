import type { IncomingMessage, ServerResponse } from "node:http";
import Fastify from "fastify";
import helmet from "helmet";
import { request } from "undici";
import { describe, expect, it } from "vitest";
import { addSecurityHeaders, SECURITY_HEADERS } from "../../src/http/security-headers.js";

/** What helmet's middleware sets, recorded from one run against a stand-in response. */
function helmetDefaults(): Record<string, string> {
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

describe("security headers", () => {
  it("are exactly helmet's defaults without a Content-Security-Policy", () => {
    expect(SECURITY_HEADERS).toEqual(helmetDefaults());
    expect(Object.keys(SECURITY_HEADERS)).not.toContain("content-security-policy");
  });

  it("reach answers that a hook sends before any route runs", async () => {
    const app = Fastify();
    addSecurityHeaders(app);
    app.addHook("onRequest", (_request, reply) => {
      reply.code(429).send({ early: true });
    });
    app.get("/", async () => ({ late: true }));
    const url = await app.listen({ host: "127.0.0.1", port: 0 });
    try {
      const response = await request(url);
      await response.body.dump();
      expect(response.statusCode).toBe(429);
      expect(response.headers).toMatchObject(SECURITY_HEADERS);
    } finally {
      await app.close();
    }
  });
});
