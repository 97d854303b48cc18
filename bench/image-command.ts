/**
 * The node arguments of the image's CMD. The bench runs the service exactly so, and
 * test/deploy/dockerfile.test.ts holds the Dockerfile and `npm start` to the same arguments, so
 * the three cannot drift apart.
 */
export const IMAGE_COMMAND = { args: ["dist/server.js"] } as const;
