/**
 * How the image starts the service: the runtime stage's extra ENV and the node arguments of its
 * CMD. The bench runs the service exactly so, and test/deploy/dockerfile.test.ts holds the
 * Dockerfile and `npm start` to the same values, so the three cannot drift apart.
 */
export const IMAGE_COMMAND = {
  args: ["--max-semi-space-size=8", "dist/server.js"],
  env: { MALLOC_MMAP_THRESHOLD_: "131072" },
} as const;
