/**
 * Paces a run's requests to ngrok to a budget per minute, so that a schedule run leaves room in
 * the account's 120 requests a minute for every other caller: a token bucket that holds a small
 * burst (a plan of one or two pages goes at once) and refills at the budget's rate.
 */
import { setTimeout as sleep } from 'node:timers/promises';

const MAX_BURST = 10;

export class Pacer {
  readonly #perMs: number;
  readonly #burst: number;
  #tokens: number;
  #updated: number;

  constructor(requestsPerMinute: number) {
    if (!(Number.isFinite(requestsPerMinute) && requestsPerMinute > 0)) {
      throw new RangeError(`A request budget must be a positive number; got ${requestsPerMinute}.`);
    }
    this.#perMs = requestsPerMinute / 60_000;
    this.#burst = Math.min(MAX_BURST, Math.max(1, requestsPerMinute));
    this.#tokens = this.#burst;
    this.#updated = Date.now();
  }

  /**
   * Waits for the next request's turn. False, at once, when that turn would come after
   * `deadline`: the caller stops there rather than overrun its time.
   */
  async turn(deadline: number): Promise<boolean> {
    const now = Date.now();
    this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#updated) * this.#perMs);
    this.#updated = now;
    const wait = this.#tokens >= 1 ? 0 : Math.ceil((1 - this.#tokens) / this.#perMs);
    if (now + wait > deadline) return false;
    this.#tokens -= 1; // may go below zero: the wait below pays it back
    if (wait > 0) await sleep(wait);
    return true;
  }
}
