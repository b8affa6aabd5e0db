/**
 * How long an override lasts, as its callers write it: ISO 8601 durations over HTTP (`PT30M`,
 * `PT2H`, `P1D`, `P1DT2H30M`, `PT1.5H`), and Slack's short form (`30m`, `2h`, `1h30m`, `1d`).
 * Days are 24 hours (an override's end is an instant, not a local time); years, months and weeks
 * are refused (a month has no fixed length, and no override lasts one). Pure.
 */

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

export type Parsed = { ms: number } | { invalid: string };

/** An ISO 8601 duration of days, hours, minutes and seconds, as milliseconds. */
export function parseIsoDuration(text: string): Parsed {
  const match =
    /^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(
      text,
    );
  if (!match || text === 'P' || text.endsWith('T')) {
    if (/^P.*[YW]|^P\d+M/.test(text)) {
      return {
        invalid:
          'must be in days, hours, minutes or seconds (P1D, PT2H, PT30M): years, months and weeks have no fixed length here',
      };
    }
    return { invalid: 'must be an ISO 8601 duration, e.g. PT30M, PT2H or P1D' };
  }
  const [, days, hours, minutes, seconds] = match;
  const ms = Math.round(
    Number(days ?? 0) * DAY_MS +
      Number(hours ?? 0) * HOUR_MS +
      Number(minutes ?? 0) * MINUTE_MS +
      Number(seconds ?? 0) * 1000,
  );
  return ms > 0 ? { ms } : { invalid: 'must be longer than nothing' };
}

/** Slack's short form: whole days, hours and minutes, in that order (`1h30m`). */
export function parseShortDuration(text: string): Parsed {
  const match = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$/i.exec(text);
  if (!match || text === '') {
    return { invalid: `\`${text}\` is not a duration: write \`30m\`, \`2h\`, \`1h30m\` or \`1d\`` };
  }
  const [, days, hours, minutes] = match;
  const ms =
    Number(days ?? 0) * DAY_MS + Number(hours ?? 0) * HOUR_MS + Number(minutes ?? 0) * MINUTE_MS;
  return ms > 0 ? { ms } : { invalid: `\`${text}\` lasts no time at all` };
}

/** A duration as people read it: `2h`, `1h30m`, `1d 2h`, `45s`. */
export function formatDuration(ms: number): string {
  const parts: string[] = [];
  let rest = Math.round(ms / 1000);
  for (const [unit, seconds] of [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    const count = Math.floor(rest / seconds);
    if (count > 0) parts.push(`${count}${unit}`);
    rest -= count * seconds;
  }
  return parts.length > 0 ? parts.join(' ') : '0s';
}
