import { sql } from "drizzle-orm";
import { bigint, integer, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";

/**
 * A GitHub account (user or organisation) that owns at least one saved repository. The id is
 * GitHub's, so it survives renames. `login` is the account's current login as last seen; when
 * another account is seen holding that login, the old holder's login is cleared, so a login
 * names at most one row and a lookup by login finds the account that holds it now.
 */
export const users = pgTable(
  "user",
  {
    id: bigint("id", { mode: "number" }).primaryKey(),
    login: text("login"),
    type: text("type").notNull(),
    htmlUrl: text("html_url").notNull(),
    /** When this row was last written from GitHub. */
    syncedAt: timestamp("synced_at", { withTimezone: true }).notNull().defaultNow(),
    /**
     * When the account was last saved whole (every page of its listing in one transaction);
     * null while only single repositories of it were saved.
     */
    listedAt: timestamp("listed_at", { withTimezone: true }),
    /**
     * Changes whenever the account's saved listing may have changed: a save of one of its
     * repositories, or one of them moving to another owner. A reader that kept a copy of the
     * listing asks whether it is still current instead of reading it again.
     */
    listingVersion: bigint("listing_version", { mode: "number" }).notNull().default(0),
    /** A replica refreshing this account holds it until then (see src/refresh/refresher.ts). */
    refreshClaimedUntil: timestamp("refresh_claimed_until", { withTimezone: true }),
  },
  (table) => [uniqueIndex("user_login_lower_key").on(sql`lower(${table.login})`)],
);

/**
 * A saved repository. The id is GitHub's, so a rename or a transfer updates the row in place;
 * a name is unique per owner regardless of letter case, as on GitHub. The unique index also
 * finds one owner's rows for a listing. Its "C" collation (byte order, the same on every server
 * and in JavaScript) makes lower(name) a total order within one owner.
 */
export const repositories = pgTable(
  "repository",
  {
    id: bigint("id", { mode: "number" }).primaryKey(),
    userId: bigint("user_id", { mode: "number" })
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    fullName: text("full_name").notNull(),
    htmlUrl: text("html_url").notNull(),
    visibility: text("visibility").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }),
    updatedAt: timestamp("updated_at", { withTimezone: true }),
    size: integer("size").notNull(),
    stars: integer("stars").notNull(),
    // Null until a details save: GitHub's listings do not carry subscribers_count.
    watchers: integer("watchers"),
    /** When this row was last written from GitHub. */
    syncedAt: timestamp("synced_at", { withTimezone: true }).notNull().defaultNow(),
    /** A replica refreshing this repository holds it until then. */
    refreshClaimedUntil: timestamp("refresh_claimed_until", { withTimezone: true }),
  },
  (table) => [
    uniqueIndex("repository_user_id_lower_name_key").on(
      table.userId,
      sql`lower(${table.name}) COLLATE "C"`,
    ),
  ],
);

export type RepositoryRow = typeof repositories.$inferSelect;
