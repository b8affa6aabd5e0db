/**
 * Wall-clock time in an IANA time zone, from the runtime's own time-zone data (Intl): the local
 * time an instant shows, and the instant a local time takes effect at, across daylight saving:
 * - a local time that does not exist that day (spring forward) takes effect at the end of the
 *   gap, the instant the clocks jump;
 * - a local time that occurs twice (fall back) takes effect at its first occurrence.
 * That is: a local time takes effect at the first instant the clock shows it or a later time.
 *
 * "Wall" values are local wall-clock times written as milliseconds since the epoch as if the zone
 * were UTC (`Date.UTC(y, m - 1, d, h, min)`): they sort and subtract like local times do.
 *
 * A bundled function reads offsets from a table instead (ZoneOffsets below): the first
 * Intl.DateTimeFormat of a process costs about 25 ms of a cold start (ICU loads its date
 * patterns), a table lookup nothing.
 */

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/**
 * A zone's UTC offsets over [from, until), read from Intl at package time: the same time-zone
 * data the schedules are made from (infra/serverless.cjs gives it to the bundles as
 * `globalThis.__zoneOffsets`, esbuild's define). Outside the span, for a zone without a table,
 * and on a runtime whose time-zone data is newer than the tables' (a country may have changed
 * its rules since), Intl answers: the two agree (test/unit/zone-offsets.test.ts).
 */
export interface ZoneOffsets {
  from: number;
  until: number;
  /** [the instant, local − UTC in ms from then on], ascending; the first is at `from`. */
  changes: [number, number][];
}

export interface ZoneTables {
  /** The release of the IANA time-zone database they come from (`process.versions.tz`). */
  tz: string;
  zones: Record<string, ZoneOffsets>;
}

declare global {
  var __zoneOffsets: ZoneTables | undefined;
}

/** The tables' zones, unless this runtime knows a newer time-zone release (`2026c` > `2026b`). */
function usable(tables: ZoneTables | undefined): Record<string, ZoneOffsets> | undefined {
  const runtime = process.versions.tz;
  return tables && runtime !== undefined && runtime <= tables.tz ? tables.zones : undefined;
}

let zoneTables = usable(globalThis.__zoneOffsets);

/** Replaces the bundled tables (the tests; undefined: Intl alone). */
export function useZoneOffsets(tables: ZoneTables | undefined): void {
  zoneTables = usable(tables);
  instants.clear();
}

function tableOffset(instant: number, zone: string): number | undefined {
  const table = zoneTables?.[zone];
  // Written so that NaN is outside every span (Intl then refuses it).
  if (!table || !(instant >= table.from && instant < table.until)) return undefined;
  const { changes } = table;
  let index = changes.length - 1;
  while (index > 0 && (changes[index] as [number, number])[0] > instant) index--;
  return (changes[index] as [number, number])[1];
}

/**
 * The zone's offsets over [from, until) (whole seconds), from Intl: checked every `step`, each
 * change then found to the second. Zones change their offset at most once in an hour.
 */
export function zoneOffsets(
  zone: string,
  from: number,
  until: number,
  step = HOUR_MS,
): ZoneOffsets {
  const start = Math.floor(from / 1000) * 1000;
  const end = Math.ceil(until / 1000) * 1000;
  let previous = intlOffsetAt(start, zone);
  const changes: [number, number][] = [[start, previous]];
  for (let checked = start; checked < end; ) {
    const next = Math.min(checked + step, end);
    const offset = intlOffsetAt(next, zone);
    if (offset !== previous) {
      let low = checked;
      let high = next;
      while (high - low > 1000) {
        const middle = Math.floor((low + high) / 2000) * 1000;
        if (intlOffsetAt(middle, zone) === previous) low = middle;
        else high = middle;
      }
      if (high < end) changes.push([high, offset]);
      previous = offset;
    }
    checked = next;
  }
  return { from: start, until: end, changes };
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let format = formatters.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, format);
  }
  return format;
}

let canonicalZones: Set<string> | undefined;

/**
 * Whether this is an IANA time zone name the runtime knows, spelled as IANA spells it (the names
 * are case-sensitive for EventBridge Scheduler). Intl alone also takes offsets like `+05:30` and
 * any capitalisation: those are refused.
 */
export function isTimeZone(zone: string): boolean {
  canonicalZones ??= new Set([
    ...Intl.supportedValuesOf('timeZone'),
    'UTC',
    'Etc/UTC',
    'GMT',
    'Etc/GMT',
  ]);
  if (canonicalZones.has(zone)) return true;
  // An alias (Asia/Calcutta, US/Eastern): spelled as an IANA name, and known to the runtime.
  if (!/^[A-Z][A-Za-z_]+(?:\/[A-Z][A-Za-z0-9_+-]*)+$/.test(zone)) return false;
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    return false;
  }
  if (resolved === zone) return true;
  // Miscapitalised (EUROPE/BERLIN) is not an alias.
  if (resolved.toLowerCase() === zone.toLowerCase()) return false;
  return canonicalZones.has(resolved);
}

const FORMATTED = /^(\d+)\/(\d+)\/(\d+), (\d+):(\d+):(\d+)$/;

/** The local wall time (see above) an instant shows in the zone, to the second. */
export function wallOf(instant: number, zone: string): number {
  const offset = tableOffset(instant, zone);
  if (offset !== undefined) return Math.floor(instant / 1000) * 1000 + offset;
  return intlWallOf(instant, zone);
}

function intlWallOf(instant: number, zone: string): number {
  const match = FORMATTED.exec(formatter(zone).format(instant));
  if (!match) throw new Error(`Cannot read the local time of ${instant} in ${zone}.`);
  const [, month, day, year, hour, minute, second] = match.map(Number) as number[];
  // setUTCFullYear, not Date.UTC: Date.UTC reads the years 0-99 as 1900-1999.
  const wall = new Date(0);
  wall.setUTCFullYear(year as number, (month as number) - 1, day);
  return wall.setUTCHours(hour as number, minute, second, 0);
}

/** local − UTC at the instant, in ms. */
export function offsetAt(instant: number, zone: string): number {
  return tableOffset(instant, zone) ?? intlOffsetAt(instant, zone);
}

function intlOffsetAt(instant: number, zone: string): number {
  return intlWallOf(instant, zone) - Math.floor(instant / 1000) * 1000;
}

const instants = new Map<string, number>();
const INSTANT_CACHE_LIMIT = 20_000;

/**
 * The instant a local wall time takes effect at: its only occurrence, its first when it occurs
 * twice, the end of the gap when it does not occur. Cached: the same few boundaries are asked
 * for again and again.
 */
export function instantOfWall(wall: number, zone: string): number {
  const key = `${zone}|${wall}`;
  const cached = instants.get(key);
  if (cached !== undefined) return cached;
  const instant = computeInstantOfWall(wall, zone);
  if (instants.size >= INSTANT_CACHE_LIMIT) instants.clear();
  instants.set(key, instant);
  return instant;
}

function computeInstantOfWall(wall: number, zone: string): number {
  // The offsets a day either side: transitions are months apart, so these are the only two.
  const before = offsetAt(wall - DAY_MS, zone);
  const after = offsetAt(wall + DAY_MS, zone);
  const candidates = [wall - before, wall - after, wall - offsetAt(wall, zone)];
  const valid = candidates.filter((candidate) => wallOf(candidate, zone) === wall);
  if (valid.length > 0) return Math.min(...valid);
  // In a gap: the clocks jumped over `wall` at one instant between the two candidates; find it
  // (the first second whose offset is the new one).
  let low = Math.min(wall - before, wall - after);
  let high = Math.max(wall - before, wall - after);
  while (high - low > 1000) {
    const middle = Math.floor((low + high) / 2000) * 1000;
    if (wallOf(middle, zone) >= wall) high = middle;
    else low = middle;
  }
  return high;
}

/** Whether the clock shows this local wall time twice (the hour repeated when clocks go back). */
export function occursTwice(wall: number, zone: string): boolean {
  const before = wall - offsetAt(wall - DAY_MS, zone);
  const after = wall - offsetAt(wall + DAY_MS, zone);
  return before !== after && wallOf(before, zone) === wall && wallOf(after, zone) === wall;
}

/** 0 = Monday … 6 = Sunday, of a wall time. */
export function weekdayOfWall(wall: number): number {
  return (new Date(wall).getUTCDay() + 6) % 7;
}

/** The wall time of the start (00:00) of the local day of a wall time. */
export function startOfWallDay(wall: number): number {
  return Math.floor(wall / DAY_MS) * DAY_MS;
}

/** `2027-03-28 02:30` (local), from a wall time. */
export function formatWall(wall: number): string {
  return new Date(wall).toISOString().slice(0, 16).replace('T', ' ');
}

/** `2027-03-28T00:30:00Z`: an instant as RFC 3339 in UTC, milliseconds only when there are some. */
export function formatUtc(instant: number): string {
  return new Date(instant).toISOString().replace('.000Z', 'Z');
}

/** `2027-03-28T02:30:00+02:00`: an instant as RFC 3339 with the zone's offset then. */
export function formatLocalInstant(instant: number, zone: string): string {
  const offsetMinutes = Math.round(offsetAt(instant, zone) / MINUTE_MS);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const hours = String(Math.floor(Math.abs(offsetMinutes) / 60)).padStart(2, '0');
  const minutes = String(Math.abs(offsetMinutes) % 60).padStart(2, '0');
  return `${new Date(wallOf(instant, zone)).toISOString().slice(0, 19)}${sign}${hours}:${minutes}`;
}
