import pino, { type DestinationStream, type Logger } from "pino";
import type { LogLevel } from "./config/config.js";

/**
 * Paths pino blanks out wherever they appear in a log line. The token is never logged on
 * purpose; these catch it if a header or an options object ever is.
 */
const REDACTED_PATHS = [
  "req.headers.authorization",
  "req.headers.cookie",
  "headers.authorization",
  "*.headers.authorization",
  "githubToken",
  "*.githubToken",
  "token",
  "*.token",
];

// Lines waiting for stdout beyond this are dropped rather than held: a stalled log reader must
// not grow the service's memory without bound.
const MAX_BUFFERED_LOG_BYTES = 16 * 1024 * 1024;

/**
 * A logger on `destination`, or on stdout written asynchronously: a synchronous write per line
 * held the event loop for a quarter of a repeated details request. Lines are written as soon as
 * the previous write is done, so they appear at once when the service is quiet and in batches
 * when it is busy; pino writes what is still buffered when the process exits.
 */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const options = { level, redact: { paths: REDACTED_PATHS, censor: "[redacted]" } };
  return pino(
    options,
    destination ?? pino.destination({ dest: 1, sync: false, maxLength: MAX_BUFFERED_LOG_BYTES }),
  );
}
