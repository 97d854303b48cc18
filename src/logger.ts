import pino, { type DestinationStream, type Logger } from "pino";
import pretty from "pino-pretty";
import type { LogLevel } from "./config/config.js";

const CENSOR = "[redacted]";

/**
 * Fields pino blanks out: credentials in the places code puts them by name, callers' own
 * included. Paths only: pino's redaction (@pinojs/redact 0.4) copies every logged object that a
 * path applies to, which for a leading "*" cost about 2.8 µs of each line, a tenth of a repeated
 * details request. None starts with `req`: requests are logged through requestSummary, which
 * writes no headers, and a `req.headers` path made pino copy the request of every request line
 * (about 5% of a repeated details request's CPU). The service's own secrets are also caught by
 * value, wherever they are.
 */
const REDACTED_PATHS = [
  "headers.authorization",
  "headers.cookie",
  "err.headers.authorization",
  "options.headers.authorization",
  "config.githubToken",
  "options.token",
  "githubToken",
  "token",
];

// Lines waiting for stdout beyond this are dropped rather than held: a stalled log reader must
// not grow the service's memory without bound.
const MAX_BUFFERED_LOG_BYTES = 16 * 1024 * 1024;

export interface LoggerOptions {
  level: LogLevel;
  /**
   * Values that must never be written (the GitHub token): replaced in every finished line, so
   * they are caught in any field, message or stack trace, not only at the redacted paths.
   */
  secrets?: Array<string | undefined>;
  /**
   * Where lines go; by default stdout: readable lines (pino-pretty) when it is a terminal, JSON
   * lines written asynchronously otherwise.
   */
  destination?: DestinationStream;
}

interface LoggedRequest {
  method?: string;
  url?: string;
  /** Fastify's request has `host` and `ip`; Node's own has them in `headers` and `socket`. */
  host?: string;
  ip?: string;
  headers?: { host?: string };
  socket?: { remoteAddress?: string; remotePort?: number };
}

/** What any line says of a request logged as `req`: what was asked and by whom, no headers. */
function requestSummary(request: LoggedRequest) {
  return {
    method: request.method,
    url: request.url,
    host: request.host ?? request.headers?.host,
    remoteAddress: request.ip ?? request.socket?.remoteAddress,
    remotePort: request.socket?.remotePort,
  };
}

function scrubber(secrets: string[]): ((line: string) => string) | undefined {
  if (secrets.length === 0) return undefined;
  return (line) => {
    let scrubbed = line;
    for (const secret of secrets) {
      if (scrubbed.includes(secret)) scrubbed = scrubbed.replaceAll(secret, CENSOR);
    }
    return scrubbed;
  };
}

/** A human at a terminal reads lines; anything else (a log collector, a file) gets JSON. */
function stdout(): DestinationStream {
  if (process.stdout.isTTY) return pretty({ destination: 1, sync: true });
  return pino.destination({ dest: 1, sync: false, maxLength: MAX_BUFFERED_LOG_BYTES });
}

/**
 * A logger on `destination`, or on stdout written asynchronously: a synchronous write per line
 * held the event loop for a quarter of a repeated details request. Lines are written as soon as
 * the previous write is done, so they appear at once when the service is quiet and in batches
 * when it is busy; pino writes what is still buffered when the process exits.
 */
export function createLogger({ level, secrets = [], destination }: LoggerOptions): Logger {
  const streamWrite = scrubber(secrets.filter((secret): secret is string => Boolean(secret)));
  return pino(
    {
      level,
      redact: { paths: REDACTED_PATHS, censor: CENSOR },
      serializers: { req: requestSummary },
      ...(streamWrite ? { hooks: { streamWrite } } : {}),
    },
    destination ?? stdout(),
  );
}
