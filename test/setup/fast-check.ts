import fc from "fast-check";

/**
 * CI runs every property with one recorded seed, so a red build fails the same way again;
 * elsewhere each run draws a new one. Either way a failure prints its seed and path, which
 * `fc.assert(..., { seed, path })` replays.
 */
export const CI_FAST_CHECK_SEED = 1_302_013;

fc.configureGlobal({ seed: process.env.CI ? CI_FAST_CHECK_SEED : undefined });
