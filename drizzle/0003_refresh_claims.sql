ALTER TABLE "repository" ADD COLUMN "refresh_claimed_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "user" ADD COLUMN "refresh_claimed_until" timestamp with time zone;