import { and, eq, ne, sql } from "drizzle-orm";
import type { Db } from "./database.js";
import {
  DatabaseConflictError,
  DatabaseUnavailableError,
  isDatabaseUnavailable,
} from "./errors.js";
import { type RepositoryRow, repositories, users } from "./schema.js";

export interface OwnerRecord {
  id: number;
  login: string;
  type: string;
  htmlUrl: string;
}

export type RepositoryRecord = Omit<RepositoryRow, "syncedAt" | "userId" | "refreshClaimedUntil">;

/** What the refresher refreshes: an account saved whole, or a repository saved on its own. */
export type RefreshKind = "account" | "repository";

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
  /** When the repository was last written from GitHub. */
  syncedAt: string;
}

/** Which account a listing was read for, and the listing version it was read at. */
export interface ListingVersion {
  userId: number;
  version: number;
}

export interface SavedListing {
  /** `listedAt`: when the account was last saved whole, null if never. */
  user: { id: number; login: string; listedAt: string | null };
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

type Transaction = Parameters<Parameters<Db["transaction"]>[0]>[0];

/**
 * Listing versions are the microseconds of the change, and each is more than the account's
 * version before: a version does not come back for an account even when the tables are emptied
 * and filled again, or restored from a backup, while a reader holds a copy of its listing.
 */
const clockVersion = sql`(extract(epoch from clock_timestamp()) * 1000000)::bigint`;
const nextListingVersion = sql`greatest(${clockVersion}, ${users.listingVersion} + 1)`;

/**
 * Upserts the owner, first taking its login from any other account that held it (that one was
 * renamed on GitHub). `whole`: this is a save of the whole account, which it records.
 */
async function takeLogin(tx: Transaction, owner: OwnerRecord, whole: boolean): Promise<void> {
  await tx
    .update(users)
    .set({ login: null })
    .where(and(sql`lower(${users.login}) = lower(${owner.login})`, ne(users.id, owner.id)));
  const listedAt = whole ? { listedAt: sql`now()` } : {};
  await tx
    .insert(users)
    .values({ ...owner, syncedAt: sql`now()`, ...listedAt, listingVersion: clockVersion })
    .onConflictDoUpdate({
      target: users.id,
      set: {
        login: owner.login,
        type: owner.type,
        htmlUrl: owner.htmlUrl,
        syncedAt: sql`now()`,
        ...listedAt,
        listingVersion: nextListingVersion,
      },
    });
}

/** A repository as jsonb_to_recordset reads it in saveListing. */
function listedRow(repository: RepositoryRecord) {
  return {
    id: repository.id,
    name: repository.name,
    full_name: repository.fullName,
    html_url: repository.htmlUrl,
    visibility: repository.visibility,
    created_at: repository.createdAt?.toISOString() ?? null,
    updated_at: repository.updatedAt?.toISOString() ?? null,
    size: repository.size,
    stars: repository.stars,
    watchers: repository.watchers,
  };
}

// to_char's pattern for GitHub's timestamp form, `2011-01-26T19:01:12Z`.
const ISO_UTC = 'YYYY-MM-DD"T"HH24:MI:SS"Z"';

/** One row of the listing query: the account, and one repository or nulls when it has none. */
interface ListingRow {
  user_id: string | number;
  login: string | null;
  listed_at: string | null;
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
  synced_at: string;
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
    await this.transaction(async (tx) => {
      await takeLogin(tx, owner, false);
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
          set: {
            userId: owner.id,
            ...fields,
            watchers: sql`coalesce(excluded.watchers, ${repositories.watchers})`,
            syncedAt: sql`now()`,
          },
        });
    });
  }

  /**
   * Saves an account whole, from the complete listing GitHub gave: in one transaction, the
   * owner, every listed repository (moved here if it was saved under another owner), and the
   * removal of the owner's saved repositories the listing no longer holds. Each step is one
   * statement over the whole set, whatever its size. A known `watchers` is kept where the
   * listing has none. The account's listing version moves once.
   */
  async saveListing(owner: OwnerRecord, listed: RepositoryRecord[]): Promise<void> {
    const rows = JSON.stringify(listed.map(listedRow));
    const ids = JSON.stringify(listed.map((repository) => repository.id));
    const listedIds = sql`(select value::bigint from jsonb_array_elements_text(${ids}::jsonb))`;
    await this.transaction(async (tx) => {
      await takeLogin(tx, owner, true);
      await tx.execute(sql`
        update "user" set listing_version = ${nextListingVersion}
        where id <> ${owner.id}
          and id in (select user_id from repository where id in ${listedIds})`);
      await tx.execute(sql`
        delete from repository where user_id = ${owner.id} and id not in ${listedIds}`);
      // A name moves from one of the owner's repositories to another when GitHub renames both
      // (a swap, or a rename into a name just freed); the unique index on the owner's names is
      // checked row by row, so renamed rows first take a name no GitHub repository can have.
      await tx.execute(sql`
        update repository r set name = '~' || r.id
        from jsonb_to_recordset(${rows}::jsonb) as l(id bigint, name text)
        where r.id = l.id and r.user_id = ${owner.id} and lower(r.name) <> lower(l.name)`);
      await tx.execute(sql`
        insert into repository (id, user_id, name, full_name, html_url, visibility, created_at,
          updated_at, size, stars, watchers, synced_at)
        select l.id, ${owner.id}, l.name, l.full_name, l.html_url, l.visibility, l.created_at,
          l.updated_at, l.size, l.stars, l.watchers, now()
        from jsonb_to_recordset(${rows}::jsonb) as l(id bigint, name text, full_name text,
          html_url text, visibility text, created_at timestamptz, updated_at timestamptz,
          size integer, stars integer, watchers integer)
        on conflict (id) do update set user_id = excluded.user_id, name = excluded.name,
          full_name = excluded.full_name, html_url = excluded.html_url,
          visibility = excluded.visibility, created_at = excluded.created_at,
          updated_at = excluded.updated_at, size = excluded.size, stars = excluded.stars,
          watchers = coalesce(excluded.watchers, repository.watchers),
          synced_at = excluded.synced_at`);
    });
  }

  /**
   * Claims up to `limit` rows due a refresh: accounts saved whole longer than `olderThanS` ago,
   * or repositories saved on their own (their owner never saved whole) as long ago. A claim
   * holds a row for `leaseS` seconds, so that replicas sharing the database refresh each row
   * once: rows another replica is claiming at this moment are skipped (`skip locked`), and rows
   * claimed before stay out until their claim is released or runs out. Oldest first.
   */
  async claimDue(
    kind: RefreshKind,
    { olderThanS, leaseS, limit }: { olderThanS: number; leaseS: number; limit: number },
  ): Promise<number[]> {
    const due =
      kind === "account"
        ? sql`select id from "user"
            where listed_at < now() - make_interval(secs => ${olderThanS})
              and (refresh_claimed_until is null or refresh_claimed_until < now())
            order by listed_at limit ${limit}
            for update skip locked`
        : sql`select r.id from repository r join "user" u on u.id = r.user_id
            where u.listed_at is null
              and r.synced_at < now() - make_interval(secs => ${olderThanS})
              and (r.refresh_claimed_until is null or r.refresh_claimed_until < now())
            order by r.synced_at limit ${limit}
            for update of r skip locked`;
    const table = kind === "account" ? sql`"user"` : sql`repository`;
    try {
      const result = await this.db.execute(sql`
        update ${table} set refresh_claimed_until = now() + make_interval(secs => ${leaseS})
        where id in (${due})
        returning id`);
      return (result as unknown as { rows: { id: string | number }[] }).rows.map((row) =>
        Number(row.id),
      );
    } catch (error) {
      throw this.translate(error);
    }
  }

  /** Gives a claimed row back, refreshed or not, so the next round may take it when due. */
  async releaseClaim(kind: RefreshKind, id: number): Promise<void> {
    const table = kind === "account" ? sql`"user"` : sql`repository`;
    try {
      await this.db.execute(sql`update ${table} set refresh_claimed_until = null where id = ${id}`);
    } catch (error) {
      throw this.translate(error);
    }
  }

  /** Removes an account GitHub no longer has, and with it its repositories. */
  async removeAccount(id: number): Promise<void> {
    try {
      await this.db.delete(users).where(eq(users.id, id));
    } catch (error) {
      throw this.translate(error);
    }
  }

  /** Removes a repository GitHub no longer has (or no longer shows); its owner's listing moves. */
  async removeRepository(id: number): Promise<void> {
    await this.transaction(async (tx) => {
      await tx
        .update(users)
        .set({ listingVersion: nextListingVersion })
        .where(
          sql`${users.id} = (select ${repositories.userId} from ${repositories} where ${repositories.id} = ${id})`,
        );
      await tx.delete(repositories).where(eq(repositories.id, id));
    });
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
        select u.id as user_id, u.login,
          to_char(u.listed_at at time zone 'UTC', ${ISO_UTC}) as listed_at,
          u.listing_version, r.id, r.name, r.full_name, r.html_url, r.visibility, r.created_at,
          r.updated_at, r.size, r.stars, r.synced_at
        from "user" u left join lateral (
          select r.id, r.name, r.full_name, r.html_url, r.visibility,
            to_char(r.created_at at time zone 'UTC', ${ISO_UTC}) as created_at,
            to_char(r.updated_at at time zone 'UTC', ${ISO_UTC}) as updated_at,
            r.size, r.stars,
            to_char(r.synced_at at time zone 'UTC', ${ISO_UTC}) as synced_at
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
        syncedAt: row.synced_at,
      });
    }
    return {
      user: { id: version.userId, login: first.login, listedAt: first.listed_at },
      version,
      repositories,
    };
  }

  /**
   * Runs a save as one transaction, again when it met a concurrent save of the same rows; a
   * save that keeps meeting them is answered as a busy database, not as a fault.
   */
  private async transaction(work: (tx: Transaction) => Promise<void>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.db.transaction(work);
        return;
      } catch (error) {
        if (sqlState(error) === undefined) throw this.translate(error);
        if (attempt === MAX_SAVE_ATTEMPTS) throw new DatabaseConflictError(error);
      }
    }
  }

  private translate(error: unknown): unknown {
    return isDatabaseUnavailable(error) ? new DatabaseUnavailableError(error) : error;
  }
}
