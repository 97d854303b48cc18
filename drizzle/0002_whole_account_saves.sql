ALTER TABLE "repository" ALTER COLUMN "watchers" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "user" ADD COLUMN "listed_at" timestamp with time zone;