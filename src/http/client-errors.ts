import { randomUUID } from "node:crypto";
import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import { type Problem, problemBody } from "./problem.js";

/**
 * What Node's HTTP parser refuses before Fastify sees a request: headers that never finished
 * arriving (the headers timeout), headers too large (which includes an overlong URL), or bytes
 * that are not HTTP. Answered as problem details, as everything else is, with a new request id
 * (there is no request to take one from), and the connection closed.
 */
function problemFor(error: NodeJS.ErrnoException): Problem {
  switch (error.code) {
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return {
        status: 408,
        type: "request-timeout",
        title: "Request timeout",
        detail: "The request's headers did not arrive in time. Send the whole request at once.",
      };
    case "HPE_HEADER_OVERFLOW":
      return {
        status: 431,
        type: "headers-too-large",
        title: "Request header fields too large",
        detail: "The request's headers (or its URL) are too large. Shorten them.",
      };
    default:
      return {
        status: 400,
        type: "malformed-request",
        title: "Malformed request",
        detail: "The request is not valid HTTP/1.1.",
      };
  }
}

export function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  // A connection reset, or one the parser has already answered, takes nothing more.
  if (error.code === "ECONNRESET" || !socket.writable) {
    socket.destroy();
    return;
  }
  const problem = problemFor(error);
  const body = JSON.stringify(problemBody(problem));
  socket.end(
    [
      `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status]}`,
      "Content-Type: application/problem+json; charset=utf-8",
      `Content-Length: ${Buffer.byteLength(body)}`,
      `X-Request-Id: ${randomUUID()}`,
      "Connection: close",
      "",
      body,
    ].join("\r\n"),
  );
}
