/**
 * mulberry32: tiny, fast and good enough for test data. A seeded generator keeps every run of
 * the fake byte-identical, so ETags and generated names can be asserted on.
 */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max], both ends included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new Error("pick() needs a non-empty list");
    return item;
  }

  /**
   * Counts on GitHub are heavily skewed (most repositories have a handful of stars, a few have
   * thousands); squaring a uniform draw approximates that without a real distribution.
   */
  skewed(max: number): number {
    const u = this.next();
    return Math.floor(u * u * u * max);
  }
}
