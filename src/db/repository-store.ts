import { and, asc, eq, ne, sql } from "drizzle-orm";
import type { Db } from "./database.js";
import { DatabaseUnavailableError, isDatabaseUnavailable } from "./errors.js";
import { type RepositoryRow, repositories, users } from "./schema.js";

export interface OwnerRecord {
  id: number;
  login: string;
  type: string;
  htmlUrl: string;
}

export type RepositoryRecord = Omit<RepositoryRow, "syncedAt" | "userId">;

export interface SavedListing {
  user: { id: number; login: string };
  repositories: RepositoryRecord[];
}

// unique_violation, serialization_failure, deadlock_detected: what concurrent saves of the same
// account or repository can meet on Postgres; running the transaction again resolves them.
const RETRYABLE_SQLSTATE = new Set(["23505", "40001", "40P01"]);
const MAX_SAVE_ATTEMPTS = 5;

function sqlState(error: unknown): string | undefined {
  for (let current = error; current instanceof Error; current = current.cause) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && RETRYABLE_SQLSTATE.has(code)) return code;
  }
  return undefined;
}

const lowerName = sql`lower(${repositories.name}) COLLATE "C"`;

/** Reads and writes saved accounts and repositories; every failure to reach the database
 * surfaces as DatabaseUnavailableError so callers answer 503 rather than 500. */
export class RepositoryStore {
  constructor(private readonly db: Db) {}

  /**
   * Saves a repository and its owner in one transaction of upserts keyed by GitHub's ids.
   * A login now held by this owner is taken from any account that held it before (that
   * account was renamed), and a name now used by this repository is taken from any older
   * repository of the same owner (that one was deleted or renamed on GitHub).
   */
  async saveRepository(owner: OwnerRecord, repository: RepositoryRecord): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.db.transaction(async (tx) => {
          await tx
            .update(users)
            .set({ login: null })
            .where(and(sql`lower(${users.login}) = lower(${owner.login})`, ne(users.id, owner.id)));
          await tx
            .insert(users)
            .values({ ...owner, syncedAt: sql`now()` })
            .onConflictDoUpdate({
              target: users.id,
              set: {
                login: owner.login,
                type: owner.type,
                htmlUrl: owner.htmlUrl,
                syncedAt: sql`now()`,
              },
            });
          await tx
            .delete(repositories)
            .where(
              and(
                eq(repositories.userId, owner.id),
                sql`${lowerName} = lower(${repository.name})`,
                ne(repositories.id, repository.id),
              ),
            );
          const { id, ...fields } = repository;
          await tx
            .insert(repositories)
            .values({ id, userId: owner.id, ...fields, syncedAt: sql`now()` })
            .onConflictDoUpdate({
              target: repositories.id,
              set: { userId: owner.id, ...fields, syncedAt: sql`now()` },
            });
        });
        return;
      } catch (error) {
        if (sqlState(error) !== undefined && attempt < MAX_SAVE_ATTEMPTS) continue;
        throw this.translate(error);
      }
    }
  }

  /**
   * The account that holds `login` now (case-insensitively) with its saved repositories sorted
   * by name, in one query; undefined when no such account was saved.
   */
  async findListing(login: string): Promise<SavedListing | undefined> {
    let rows: Array<{ userId: number; login: string | null; repository: RepositoryRecord | null }>;
    try {
      rows = await this.db
        .select({
          userId: users.id,
          login: users.login,
          repository: {
            id: repositories.id,
            name: repositories.name,
            fullName: repositories.fullName,
            htmlUrl: repositories.htmlUrl,
            visibility: repositories.visibility,
            createdAt: repositories.createdAt,
            updatedAt: repositories.updatedAt,
            size: repositories.size,
            stars: repositories.stars,
            watchers: repositories.watchers,
          },
        })
        .from(users)
        .leftJoin(repositories, eq(repositories.userId, users.id))
        .where(sql`lower(${users.login}) = lower(${login})`)
        .orderBy(asc(lowerName));
    } catch (error) {
      throw this.translate(error);
    }
    const first = rows[0];
    if (!first || first.login === null) return undefined;
    return {
      user: { id: first.userId, login: first.login },
      repositories: rows.flatMap((row) => (row.repository ? [row.repository] : [])),
    };
  }

  private translate(error: unknown): unknown {
    return isDatabaseUnavailable(error) ? new DatabaseUnavailableError(error) : error;
  }
}
