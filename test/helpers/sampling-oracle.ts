/**
 * A brute-force oracle of the sampling schedule, minute by minute, that shares no code with
 * lib/sampling/evaluate.ts or zone.ts: it walks the clock of the zone one minute at a time and
 * applies each boundary the first time the clock shows its local time or a later one (so a
 * boundary in a spring-forward gap applies when the clock jumps past it, and one in a repeated
 * hour applies once, at its first occurrence), ends before starts at the same local time.
 */
import { DAYS, type Rule, validatePolicy } from '../../lib/sampling/policy.ts';

export const MINUTE = 60_000;
export const DAY = 86_400_000;

/** The zone's clock at an instant, as a UTC-based ms number (the oracle's own reading). */
function clock(zone: string) {
  const format = new Intl.DateTimeFormat('en-GB', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  });
  return (instant: number) => {
    const parts: Record<string, string> = {};
    for (const part of format.formatToParts(instant)) parts[part.type] = part.value;
    return Date.UTC(
      Number(parts.year),
      Number(parts.month) - 1,
      Number(parts.day),
      Number(parts.hour),
      Number(parts.minute),
    );
  };
}

interface Event {
  wall: number;
  order: number;
  rate: number;
}

/** Rates minute by minute over [from, to), by the oracle. */
export function oracleRates(rule: Rule, from: number, to: number): Float64Array {
  const read = clock(rule.timezone);
  const events: Event[] = [];
  const firstDay = Math.floor(read(from - 3 * DAY) / DAY) * DAY;
  const lastDay = Math.floor(read(to) / DAY) * DAY + 2 * DAY;
  for (let day = firstDay; day <= lastDay; day += DAY) {
    const weekday = DAYS[(new Date(day).getUTCDay() + 6) % 7];
    for (const window of rule.windows) {
      if (!window.days.includes(weekday as (typeof DAYS)[number])) continue;
      const end = window.end > window.start ? window.end : window.end + 1440;
      events.push({ wall: day + window.start * MINUTE, order: 1, rate: window.rate });
      events.push({ wall: day + end * MINUTE, order: 0, rate: rule.default_rate });
    }
  }
  events.sort((a, b) => a.wall - b.wall || a.order - b.order);
  const rates = new Float64Array(Math.ceil((to - from) / MINUTE));
  let current = rule.default_rate;
  let next = 0;
  for (let instant = from - 3 * DAY; instant < to; instant += MINUTE) {
    const shows = read(instant);
    while (next < events.length && (events[next] as Event).wall <= shows) {
      current = (events[next] as Event).rate;
      next++;
    }
    if (instant >= from) rates[(instant - from) / MINUTE] = current;
  }
  return rates;
}

/** A policy of one rule in `timezone` with these windows (default rate 1), validated. */
export function ruleOf(timezone: string, windows: unknown[]): Rule {
  return validatePolicy({
    timezone,
    rules: [{ name: 'r', streams: { description_prefix: 'p' }, default_rate: 1, windows }],
  }).rules[0] as Rule;
}
