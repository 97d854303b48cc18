import { once } from "node:events";
import { connect, type Socket } from "node:net";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "../helpers/harness.js";

const PROBLEM = "application/problem+json; charset=utf-8";
// Reliability bounds: Node checks the headers timeout (10 s) every second, and closes an idle
// keep-alive connection after 5 s; the slack absorbs a busy machine.
const HEADERS_BOUND_MS = 10_000 + 1_000 + 2_000;
const IDLE_BOUND_MS = 5_000 + 2_000;

async function open(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  const socket = connect({ host: hostname, port: Number(port) });
  await once(socket, "connect");
  return socket;
}

/** Everything the server sends until it closes the connection, and when that happened. */
async function untilClosed(socket: Socket) {
  const started = performance.now();
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  socket.on("error", () => {});
  await once(socket, "close");
  const text = Buffer.concat(chunks).toString("utf8");
  const split = text.indexOf("\r\n\r\n");
  return {
    ms: performance.now() - started,
    status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]),
    head: split === -1 ? text : text.slice(0, split),
    body: split === -1 ? "" : text.slice(split + 4),
  };
}

describe("connections", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { MAX_CONNECTIONS: "8" } });
  });
  afterAll(() => h.close());

  it("answers headers that never finish with a 408 problem within the headers timeout", async () => {
    const socket = await open(h.url);
    socket.write("GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ");
    const answer = await untilClosed(socket);
    expect(answer.status).toBe(408);
    expect(answer.head).toContain(`Content-Type: ${PROBLEM}`);
    expect(answer.head).toMatch(/X-Request-Id: [0-9a-f-]{36}/);
    expect(JSON.parse(answer.body)).toMatchObject({
      status: 408,
      type: "urn:problem:request-timeout",
    });
    expect(answer.ms).toBeLessThan(HEADERS_BOUND_MS);
  }, 20_000);

  it("closes an idle keep-alive connection after a few seconds", async () => {
    const socket = await open(h.url);
    socket.write("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
    const answer = await untilClosed(socket);
    expect(answer.status).toBe(200);
    expect(answer.ms).toBeLessThan(IDLE_BOUND_MS);
    expect(answer.ms).toBeGreaterThan(3_000);
  }, 20_000);

  it("answers headers too large with a 431 problem", async () => {
    const socket = await open(h.url);
    socket.write(`GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`);
    const answer = await untilClosed(socket);
    expect(answer.status).toBe(431);
    expect(answer.head).toContain(`Content-Type: ${PROBLEM}`);
    expect(JSON.parse(answer.body)).toMatchObject({
      status: 431,
      type: "urn:problem:headers-too-large",
    });
  });

  it("answers a URL too long with a 414 problem, and a body too large with a 413 problem", async () => {
    const long = await request(`${h.url}/repositories?username=${"a".repeat(3_000)}`);
    expect(long.statusCode).toBe(414);
    expect(long.headers["content-type"]).toBe(PROBLEM);
    expect(await long.body.json()).toMatchObject({ status: 414 });
    const big = await request(`${h.url}/health`, {
      method: "POST",
      body: "x".repeat(10_000),
      headers: { "content-type": "application/json" },
    });
    expect(big.statusCode).toBe(413);
    expect(big.headers["content-type"]).toBe(PROBLEM);
    expect(await big.body.json()).toMatchObject({ status: 413 });
  });

  it("closes connections beyond MAX_CONNECTIONS as they arrive, and serves again once they go", async () => {
    const held = await Promise.all(Array.from({ length: 8 }, () => open(h.url)));
    const extra = await open(h.url);
    const refused = await untilClosed(extra);
    expect(refused.status).toBeNaN();
    for (const socket of held) socket.destroy();
    await expect
      .poll(
        async () =>
          await request(`${h.url}/health`).then(
            (r) => r.statusCode,
            () => 0,
          ),
        {
          timeout: 5_000,
        },
      )
      .toBe(200);
  });
});
