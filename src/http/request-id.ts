import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";

export const REQUEST_ID_HEADER = "x-request-id";

// What API.md allows a caller's id to be; anything else is replaced, never echoed, so a log
// line or an answer cannot be made to carry what the caller wrote.
const CALLERS_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** The caller's `X-Request-Id` when it is well-formed and sent once, else a new UUID. */
export function requestIdOf(request: IncomingMessage): string {
  const sent = request.headers[REQUEST_ID_HEADER];
  return typeof sent === "string" && CALLERS_ID.test(sent) ? sent : randomUUID();
}
