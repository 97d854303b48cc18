import { once } from "node:events";
import { connect, type Socket } from "node:net";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "../helpers/harness.js";

const PROBLEM = "application/problem+json; charset=utf-8";
const MAX_CONNECTIONS = 8;
// Node checks the headers timeout (10 s) every second. An idle keep-alive connection is closed
// 5 s after its last answer, plus the 1 s Node adds so that a client honouring the advertised
// `Keep-Alive: timeout=5` never finds it closed. The slack absorbs a busy machine.
const HEADERS_TIMEOUT_MS = 10_000;
const HEADERS_BOUND_MS = HEADERS_TIMEOUT_MS + 1_000 + 2_000;
const KEEP_ALIVE_MS = 5_000;
const IDLE_BOUND_MS = KEEP_ALIVE_MS + 1_000 + 2_000;

async function open(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  const socket = connect({ host: hostname, port: Number(port) });
  await once(socket, "connect");
  return socket;
}

/**
 * Everything the server sends until it closes the connection, and when that happened; the head
 * in lower case, as header names are case-insensitive.
 */
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
    head: (split === -1 ? text : text.slice(0, split)).toLowerCase(),
    body: split === -1 ? "" : text.slice(split + 4),
  };
}

/** Sends `bytes` on a new connection and reads the answer until the server closes it. */
async function exchange(url: string, bytes: string) {
  const socket = await open(url);
  const answer = untilClosed(socket);
  socket.write(bytes);
  return answer;
}

describe("connections", () => {
  let h: Harness;
  beforeAll(async () => {
    // Postgres, not PGlite: nothing here touches the database, and PGlite takes seconds to open.
    // GITHUB_TIMEOUT_MS at its default: its request timeout (three times it) would otherwise cut
    // slow headers before the headers timeout does.
    h = await startHarness({
      backend: "postgres",
      env: { MAX_CONNECTIONS: String(MAX_CONNECTIONS), GITHUB_TIMEOUT_MS: "10000" },
    });
  });
  afterAll(() => h.close());

  // First, while no client keeps a connection from an earlier test open.
  it("closes connections beyond MAX_CONNECTIONS as they arrive, and serves again once they go", async () => {
    const held = await Promise.all(Array.from({ length: MAX_CONNECTIONS }, () => open(h.url)));
    const refused = await untilClosed(await open(h.url));
    expect(refused.status).toBeNaN();
    expect(refused.ms).toBeLessThan(1_000);
    // Every connection within the cap was kept and is served.
    const served = await Promise.all(
      held.map((socket) => {
        const answer = untilClosed(socket);
        socket.write("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        return answer;
      }),
    );
    expect(served.map((answer) => answer.status)).toEqual(held.map(() => 200));
    const health = await request(`${h.url}/health`);
    await health.body.dump();
    expect(health.statusCode).toBe(200);
  });

  // The two slow ones run side by side: the file takes the longer of them, not their sum.
  it.concurrent("answers headers that never finish with a 408 problem after the headers timeout", async () => {
    const socket = await open(h.url);
    const answer = untilClosed(socket);
    socket.write("GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ");
    const { ms, status, head, body } = await answer;
    expect(status).toBe(408);
    expect(head).toContain(`content-type: ${PROBLEM}`);
    expect(head).toMatch(/x-request-id: [0-9a-f-]{36}/);
    expect(JSON.parse(body)).toMatchObject({ status: 408, type: "urn:problem:request-timeout" });
    // The timer starts as the connection is accepted, a moment before `open` returns.
    expect(ms).toBeGreaterThan(HEADERS_TIMEOUT_MS - 500);
    expect(ms).toBeLessThan(HEADERS_BOUND_MS);
  }, 20_000);

  it.concurrent("closes an idle keep-alive connection a few seconds after its answer", async () => {
    const { ms, status, head } = await exchange(h.url, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
    expect(status).toBe(200);
    expect(head).toContain("keep-alive: timeout=5");
    expect(ms).toBeGreaterThan(KEEP_ALIVE_MS);
    expect(ms).toBeLessThan(IDLE_BOUND_MS);
  }, 20_000);

  it("answers headers too large with a 431 problem", async () => {
    const { status, head, body } = await exchange(
      h.url,
      `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`,
    );
    expect(status).toBe(431);
    expect(head).toContain(`content-type: ${PROBLEM}`);
    expect(head).toMatch(/x-request-id: [0-9a-f-]{36}/);
    expect(JSON.parse(body)).toMatchObject({
      status: 431,
      type: "urn:problem:headers-too-large",
    });
  });

  it("answers bytes that are not HTTP with a 400 problem", async () => {
    const { status, head, body } = await exchange(h.url, "HELLO\r\n\r\n");
    expect(status).toBe(400);
    expect(head).toContain(`content-type: ${PROBLEM}`);
    expect(JSON.parse(body)).toMatchObject({ status: 400, type: "urn:problem:malformed-request" });
  });

  it("answers a URL too long with a 414 problem carrying the caller's request id", async () => {
    const long = await request(`${h.url}/repositories?username=${"a".repeat(3_000)}`, {
      headers: { "x-request-id": "long-url-1" },
    });
    expect(long.statusCode).toBe(414);
    expect(long.headers["content-type"]).toBe(PROBLEM);
    expect(long.headers["x-request-id"]).toBe("long-url-1");
    expect(await long.body.json()).toMatchObject({
      status: 414,
      type: "urn:problem:uri-too-long",
      instance: "/repositories",
    });
  });

  it("answers a body declared too large with a 413 problem without waiting for it", async () => {
    // No route takes a body; the declared length alone is refused, before a byte of it is read.
    const { ms, status, head, body } = await exchange(
      h.url,
      "POST /health HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\nX-Request-Id: big-body-1\r\nConnection: close\r\n\r\n",
    );
    expect(status).toBe(413);
    expect(ms).toBeLessThan(1_000);
    expect(head).toContain(`content-type: ${PROBLEM}`);
    expect(head).toContain("x-request-id: big-body-1");
    expect(JSON.parse(body)).toMatchObject({
      status: 413,
      type: "urn:problem:content-too-large",
      instance: "/health",
    });
  });
});
