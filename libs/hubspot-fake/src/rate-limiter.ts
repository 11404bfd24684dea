/**
 * HubSpot's secondly limit: at most N requests in any rolling 1000 ms per key. A rejected
 * request does not use up the window, so a client that waits a second gets through.
 */
import type { Clock } from '@codestep/core';

export interface RateDecision {
  allowed: boolean;
  limit: number;
  /** Requests still allowed in the current window after this one. */
  remaining: number;
}

export class SecondlyRateLimiter {
  readonly #clock: Clock;
  #limit: number;
  readonly #windows = new Map<string, number[]>();

  /** `limit` of `Infinity` (or 0) turns limiting off. */
  constructor(limit: number, clock: Clock) {
    this.#clock = clock;
    this.#limit = limit;
  }

  get limit(): number {
    return this.#limit;
  }

  setLimit(limit: number): void {
    this.#limit = limit;
    this.#windows.clear();
  }

  get enabled(): boolean {
    return Number.isFinite(this.#limit) && this.#limit > 0;
  }

  take(key: string): RateDecision {
    if (!this.enabled) return { allowed: true, limit: this.#limit, remaining: this.#limit };
    const now = this.#clock();
    const window = (this.#windows.get(key) ?? []).filter((at) => now - at < 1000);
    if (window.length >= this.#limit) {
      this.#windows.set(key, window);
      return { allowed: false, limit: this.#limit, remaining: 0 };
    }
    window.push(now);
    this.#windows.set(key, window);
    return { allowed: true, limit: this.#limit, remaining: this.#limit - window.length };
  }

  reset(): void {
    this.#windows.clear();
  }
}
