/** The database could not be reached or did not answer in time; the request may be retried. */
export class DatabaseUnavailableError extends Error {
  constructor(cause: unknown) {
    super("The database is unreachable", { cause });
    this.name = "DatabaseUnavailableError";
  }
}

/**
 * A save kept meeting concurrent saves of the same rows (unique violations, serialization
 * failures, deadlocks) through every attempt; the request may be retried.
 */
export class DatabaseConflictError extends Error {
  constructor(cause: unknown) {
    super("Concurrent saves of the same account kept conflicting", { cause });
    this.name = "DatabaseConflictError";
  }
}

// SQLSTATE classes that mean "the server or the connection failed", not "the query is wrong":
// 08 connection exception, 53 insufficient resources, 57 operator intervention, 58 system error.
const UNAVAILABLE_SQLSTATE = /^(08|53|57|58)/;

/**
 * Tells a failure of the database itself (connection refused, reset, timed out, server shut
 * down) from a fault in the query. Drivers wrap errors differently (drizzle puts the driver's
 * error in `cause`), so the whole cause chain is examined.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let current = error; current instanceof Error; current = current.cause) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") {
      if (/^[0-9A-Z]{5}$/.test(code)) return UNAVAILABLE_SQLSTATE.test(code);
      if (/^E[A-Z]+$/.test(code)) return true;
    }
    if (/connection|terminated|timeout|ECONN|closed/i.test(current.message)) return true;
  }
  return false;
}
