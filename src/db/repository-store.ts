import { and, eq, ne, sql } from "drizzle-orm";
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

/** A saved repository as a listing shows it, timestamps already in GitHub's ISO 8601 form. */
export interface ListedRepository {
  id: number;
  name: string;
  fullName: string;
  htmlUrl: string;
  visibility: string;
  createdAt: string | null;
  updatedAt: string | null;
  size: number;
  stars: number;
}

/** Which account a listing was read for, and the listing version it was read at. */
export interface ListingVersion {
  userId: number;
  version: number;
}

export interface SavedListing {
  user: { id: number; login: string };
  version: ListingVersion;
  repositories: ListedRepository[];
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

/**
 * Listing versions are the microseconds of the change, and each is more than the account's
 * version before: a version does not come back for an account even when the tables are emptied
 * and filled again, or restored from a backup, while a reader holds a copy of its listing.
 */
const clockVersion = sql`(extract(epoch from clock_timestamp()) * 1000000)::bigint`;
const nextListingVersion = sql`greatest(${clockVersion}, ${users.listingVersion} + 1)`;

// to_char's pattern for GitHub's timestamp form, `2011-01-26T19:01:12Z`.
const ISO_UTC = 'YYYY-MM-DD"T"HH24:MI:SS"Z"';

/** One row of the listing query: the account, and one repository or nulls when it has none. */
interface ListingRow {
  user_id: string | number;
  login: string | null;
  listing_version: string | number;
  id: string | number | null;
  name: string;
  full_name: string;
  html_url: string;
  visibility: string;
  created_at: string | null;
  updated_at: string | null;
  size: number;
  stars: number;
}

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
            .values({ ...owner, syncedAt: sql`now()`, listingVersion: clockVersion })
            .onConflictDoUpdate({
              target: users.id,
              set: {
                login: owner.login,
                type: owner.type,
                htmlUrl: owner.htmlUrl,
                syncedAt: sql`now()`,
                listingVersion: nextListingVersion,
              },
            });
          // A repository saved before under another owner (it was transferred) leaves that
          // owner's listing, so that listing changes too.
          await tx
            .update(users)
            .set({ listingVersion: nextListingVersion })
            .where(
              and(
                sql`${users.id} = (select ${repositories.userId} from ${repositories} where ${repositories.id} = ${repository.id})`,
                ne(users.id, owner.id),
              ),
            );
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
   * by name, in one query; undefined when no such account was saved. Given the version of a
   * copy the caller holds, the same query checks it instead and answers "unchanged" while that
   * account still holds the login at that version, reading no repository.
   */
  async findListing(login: string): Promise<SavedListing | undefined>;
  async findListing(
    login: string,
    held: ListingVersion | undefined,
  ): Promise<SavedListing | "unchanged" | undefined>;
  async findListing(
    login: string,
    held?: ListingVersion,
  ): Promise<SavedListing | "unchanged" | undefined> {
    // Ids and versions are never negative, so -1 matches no account.
    const heldUserId = held?.userId ?? -1;
    const heldVersion = held?.version ?? -1;
    let rows: ListingRow[];
    try {
      // Hand-written rather than built by Drizzle's select: this is the hot read path, and
      // Drizzle's per-column row mapping doubled its time at 1,000 rows (4.6 ms against 9 ms
      // on Postgres). Timestamps come formatted as GitHub writes them, so no Date is built.
      // The repositories are a lateral subquery kept apart by "offset 0": joined directly, the
      // held-version test became a join filter run on every one of the owner's rows after
      // reading them; in the subquery it refers only to the account, so Postgres runs it once,
      // as a one-time filter, and a check of a held listing reads no repository at all.
      const result = await this.db.execute(sql`
        select u.id as user_id, u.login, u.listing_version, r.id, r.name, r.full_name,
          r.html_url, r.visibility, r.created_at, r.updated_at, r.size, r.stars
        from "user" u left join lateral (
          select r.id, r.name, r.full_name, r.html_url, r.visibility,
            to_char(r.created_at at time zone 'UTC', ${ISO_UTC}) as created_at,
            to_char(r.updated_at at time zone 'UTC', ${ISO_UTC}) as updated_at,
            r.size, r.stars
          from repository r
          where r.user_id = u.id
            and not (u.id = ${heldUserId} and u.listing_version = ${heldVersion})
          offset 0
        ) r on true
        where lower(u.login) = lower(${login})
        order by lower(r.name) collate "C"`);
      rows = (result as unknown as { rows: ListingRow[] }).rows;
    } catch (error) {
      throw this.translate(error);
    }
    const first = rows[0];
    if (!first || first.login === null) return undefined;
    // bigint arrives as a string from node-postgres; GitHub's ids and the versions (microseconds
    // since 1970) fit a double exactly.
    const version = { userId: Number(first.user_id), version: Number(first.listing_version) };
    if (version.userId === heldUserId && version.version === heldVersion) return "unchanged";
    const repositories: ListedRepository[] = [];
    for (const row of rows) {
      if (row.id === null) continue;
      repositories.push({
        id: Number(row.id),
        name: row.name,
        fullName: row.full_name,
        htmlUrl: row.html_url,
        visibility: row.visibility,
        createdAt: row.created_at,
        updatedAt: row.updated_at,
        size: row.size,
        stars: row.stars,
      });
    }
    return { user: { id: version.userId, login: first.login }, version, repositories };
  }

  private translate(error: unknown): unknown {
    return isDatabaseUnavailable(error) ? new DatabaseUnavailableError(error) : error;
  }
}
