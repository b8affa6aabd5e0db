/**
 * ngrok's API rate limit: 120 requests per rolling 60 s per API key, over it a 429
 * ERR_NGROK_226 (docs/ngrok-api.md §1). The sandbox also sends `Retry-After` in seconds.
 */
export interface RateLimitConfig {
  limit: number;
  window_seconds: number;
}

export const DEFAULT_RATE_LIMIT: RateLimitConfig = { limit: 120, window_seconds: 60 };

export class RateLimiter {
  private readonly admitted = new Map<string, number[]>();

  reset(): void {
    this.admitted.clear();
  }

  /** Admits the request and returns undefined, or returns the seconds to wait. */
  admit(key: string, config: RateLimitConfig, now = Date.now()): number | undefined {
    const windowMs = config.window_seconds * 1000;
    const times = (this.admitted.get(key) ?? []).filter((at) => at > now - windowMs);
    this.admitted.set(key, times);
    const [oldest] = times;
    if (times.length >= config.limit && oldest !== undefined) {
      return Math.max(1, Math.ceil((oldest + windowMs - now) / 1000));
    }
    times.push(now);
    return undefined;
  }
}
