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

export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const options = { level, redact: { paths: REDACTED_PATHS, censor: "[redacted]" } };
  return destination ? pino(options, destination) : pino(options);
}
