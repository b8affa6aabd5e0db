/**
 * The sampling tests' rule, built around the current time: `web/` streams at 25 % in a `quiet`
 * window that started at `boundary` (a minute ago, on the minute) and lasts six hours; 100 %
 * outside it. Every day, so that any day of the run works.
 */
const HOUR = 3_600_000;

const hhmm = (instant: number) => new Date(instant).toISOString().slice(11, 16);

/** The last whole minute but one: the `quiet` window's start. */
export function lastBoundary(now = Date.now()): number {
  return Math.floor(now / 60_000) * 60_000 - 60_000;
}

export function webQuietRule(boundary: number) {
  return {
    name: 'web',
    streams: { description_prefix: 'web/' },
    default_rate: 1,
    windows: [
      {
        name: 'quiet',
        days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'],
        start: hhmm(boundary),
        end: hhmm(boundary + 6 * HOUR),
        rate: 0.25,
      },
    ],
  };
}
