/**
 * Paces a run's requests to ngrok to a budget per minute, so that a schedule run leaves room in
 * the account's 120 requests a minute for every other caller. Evenly spaced: at most one request
 * per 60 000 / budget ms, the first at once.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export class Pacer {
  readonly #spacingMs: number;
  #next = 0;

  constructor(requestsPerMinute: number) {
    if (!(Number.isFinite(requestsPerMinute) && requestsPerMinute > 0)) {
      throw new RangeError(`A request budget must be a positive number; got ${requestsPerMinute}.`);
    }
    this.#spacingMs = 60_000 / requestsPerMinute;
  }

  /**
   * Waits for the next request's turn. False, at once, when that turn comes after `deadline`:
   * the caller stops there rather than overrun its time.
   */
  async turn(deadline: number): Promise<boolean> {
    const now = Date.now();
    const at = Math.max(now, this.#next);
    if (at > deadline) return false;
    this.#next = at + this.#spacingMs;
    if (at > now) await sleep(at - now);
    return true;
  }
}
