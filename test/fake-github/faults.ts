import type { SeededRandom } from "./random.js";
import type { FaultSpec } from "./types.js";

interface ActiveFault {
  spec: FaultSpec;
  remaining: number;
}

/**
 * Faults in the order they were injected; the first one that matches a request and wins its
 * probability draw answers it. Draws come from their own seeded generator, so adding faults
 * does not change the generated data and a run with the same seed fails the same requests.
 */
export class FaultInjector {
  private faults: ActiveFault[] = [];

  constructor(private readonly random: SeededRandom) {}

  add(spec: FaultSpec): void {
    const probability = spec.probability ?? 1;
    if (!(probability >= 0 && probability <= 1)) {
      throw new Error("FakeGitHub: fault probability must be within 0..1");
    }
    const times = spec.times ?? (spec.kind === "5xx-once" ? 1 : Number.POSITIVE_INFINITY);
    this.faults.push({ spec, remaining: times });
  }

  clear(): void {
    this.faults = [];
  }

  /** The fault that answers a request for `pathname`, if any, counting it against `times`. */
  take(pathname: string): FaultSpec | undefined {
    for (const fault of this.faults) {
      if (fault.remaining <= 0 || !matches(fault.spec.path, pathname)) continue;
      const probability = fault.spec.probability ?? 1;
      if (probability < 1 && !this.random.chance(probability)) continue;
      fault.remaining--;
      return fault.spec;
    }
    return undefined;
  }
}

function matches(path: string | RegExp | undefined, pathname: string): boolean {
  if (path === undefined) return true;
  if (typeof path === "string") return path === pathname;
  path.lastIndex = 0; // a /g or /y RegExp keeps state between test() calls
  return path.test(pathname);
}
