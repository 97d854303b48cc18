/**
 * The node arguments of the image's CMD. The bench runs the service exactly so, and
 * test/deploy/dockerfile.test.ts holds the Dockerfile to the same arguments and `npm start` to
 * none but the entry point, so they cannot drift apart. Why each flag is there, with its
 * figures: docs/performance.md, "Runtime flags".
 */
export const IMAGE_COMMAND = {
  args: ["--heap-growing-percent=30", "--liftoff-only", "dist/server.js"],
} as const;
