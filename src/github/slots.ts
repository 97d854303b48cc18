import { GitHubBusyError } from "./errors.js";

/**
 * A bounded number of tasks at once, the rest waiting in a bounded queue for a bounded time:
 * beyond either bound the caller is told the service is busy instead of waiting unboundedly.
 * Written here because the maintained limiters (p-limit, p-queue) queue without bounding
 * either the queue's length or the wait.
 */
export class Slots {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly options: { size: number; queue: number; waitMs: number }) {}

  /** Runs `task` in its turn; a caller whose `signal` aborts leaves the queue. */
  async run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.acquire(signal);
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  private acquire(signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.running < this.options.size) {
      this.running++;
      return Promise.resolve();
    }
    if (this.waiting.length >= this.options.queue) return Promise.reject(this.busy());
    return new Promise((resolve, reject) => {
      const leave = (reason: unknown) => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", abandoned);
        this.waiting.splice(this.waiting.indexOf(admit), 1);
        reject(reason);
      };
      const admit = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", abandoned);
        this.running++;
        resolve();
      };
      const abandoned = () => leave(signal?.reason);
      const timer = setTimeout(() => leave(this.busy()), this.options.waitMs);
      signal?.addEventListener("abort", abandoned, { once: true });
      this.waiting.push(admit);
    });
  }

  private release() {
    this.running--;
    this.waiting.shift()?.();
  }

  private busy() {
    return new GitHubBusyError(
      `The service is busy: ${this.options.size} listings are being fetched from GitHub and ${this.waiting.length} are waiting`,
    );
  }
}
