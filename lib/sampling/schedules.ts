/**
 * The EventBridge Scheduler schedules a policy needs, derived from its boundaries: one cron
 * schedule per distinct local boundary time (per zone; rules and days merged where they share a
 * time), a one-time schedule at the end of each daylight-saving gap that swallows a boundary
 * (EventBridge Scheduler skips a cron time that does not exist that day; a time that occurs
 * twice it runs once, at the first occurrence, as the policy's semantics want), and one
 * `rate(15 minutes)` schedule for the rules with `enforce: true`. Pure: infra/ turns these into
 * CloudFormation, `npm run sampling:check` prints them.
 */
import { DAYS, type Day, formatMinutes, type Policy } from './types.ts';
import {
  DAY_MS,
  instantOfWall,
  MINUTE_MS,
  occursTwice,
  startOfWallDay,
  wallOf,
  weekdayOfWall,
  type ZoneOffsets,
  type ZoneTables,
  zoneOffsets,
} from './zone.ts';

export interface BoundarySchedule {
  /** Stable from one package to the next: `boundary-<zone>-<HHMM>`. */
  name: string;
  timezone: string;
  /** Minutes of the local day. */
  minute: number;
  /** The local days the time is a boundary of some rule. */
  days: Day[];
  rules: string[];
  /** `cron(0 22 ? * MON-style days *)`, in `timezone`. */
  expression: string;
}

export interface GapSchedule {
  /** `gap-<zone>-<YYYYMMDD>-<HHMM>`. */
  name: string;
  timezone: string;
  /** The boundary's local time that does not exist that day. */
  skipped: string;
  /** The local date, YYYY-MM-DD. */
  date: string;
  /** The instant the clocks jump past it: when the boundary takes effect. */
  at: number;
  rules: string[];
  /** `at(2027-03-28T03:00:00)`, local time in `timezone`. */
  expression: string;
}

export const ENFORCE_SCHEDULE_NAME = 'enforce';
export const ENFORCE_EXPRESSION = 'rate(15 minutes)';

/** A zone as the part of a schedule name: Scheduler allows [0-9a-zA-Z-_.]. */
export function zoneSlug(zone: string): string {
  return zone
    .replaceAll('/', '.')
    .replaceAll('+', 'plus')
    .replace(/[^0-9A-Za-z_.-]/g, '_');
}

function cronOf(minute: number, days: readonly Day[]): string {
  const dayOfWeek =
    days.length === DAYS.length ? '*' : days.map((day) => day.toUpperCase()).join(',');
  return `cron(${minute % 60} ${Math.floor(minute / 60)} ? * ${dayOfWeek} *)`;
}

function nextDay(day: Day): Day {
  return DAYS[(DAYS.indexOf(day) + 1) % DAYS.length] as Day;
}

/** Every boundary of every rule as (zone, minute of the day, day): the cron schedules. */
export function boundarySchedules(policy: Policy): BoundarySchedule[] {
  const byTime = new Map<
    string,
    { timezone: string; minute: number; days: Set<Day>; rules: Set<string> }
  >();
  const add = (timezone: string, minute: number, days: readonly Day[], rule: string) => {
    const key = `${timezone}|${minute}`;
    let entry = byTime.get(key);
    if (!entry) {
      entry = { timezone, minute, days: new Set(), rules: new Set() };
      byTime.set(key, entry);
    }
    for (const day of days) entry.days.add(day);
    entry.rules.add(rule);
  };
  for (const rule of policy.rules) {
    for (const window of rule.windows) {
      add(rule.timezone, window.start, window.days, rule.name);
      const sameDay = window.end > window.start && window.end < 1440;
      add(
        rule.timezone,
        window.end % 1440,
        sameDay ? window.days : window.days.map(nextDay),
        rule.name,
      );
    }
  }
  return [...byTime.values()]
    .map(({ timezone, minute, days, rules }) => {
      const sortedDays = DAYS.filter((day) => days.has(day));
      return {
        name: `boundary-${zoneSlug(timezone)}-${formatMinutes(minute).replace(':', '')}`,
        timezone,
        minute,
        days: sortedDays,
        rules: [...rules].sort(),
        expression: cronOf(minute, sortedDays),
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * How far ahead a package plans for daylight saving: its one-time schedules for skipped times,
 * and the zone offsets bundled into the functions (zoneOffsetsOf). A deployment should be
 * packaged again within this time.
 */
export const HORIZON_MONTHS = 24;

/**
 * The offsets of the policy's zones, for the functions' bundles: from a year before `now` (runs
 * look back a few days at most) to the horizon after it. Beyond it the functions ask Intl.
 */
export function zoneOffsetsOf(policy: Policy, now: number): ZoneTables {
  const until = new Date(now);
  until.setUTCMonth(until.getUTCMonth() + HORIZON_MONTHS);
  const zones: Record<string, ZoneOffsets> = {};
  for (const rule of policy.rules) {
    zones[rule.timezone] ??= zoneOffsets(rule.timezone, now - 366 * DAY_MS, until.getTime());
  }
  return { tz: process.versions.tz ?? '', zones };
}

/** Each (schedule, local day) in [from, from + months) on which the schedule's time is due. */
function dueDays(
  policy: Policy,
  from: number,
  months: number,
): { schedule: BoundarySchedule; day: number; wall: number }[] {
  const found: { schedule: BoundarySchedule; day: number; wall: number }[] = [];
  for (const schedule of boundarySchedules(policy)) {
    const firstDay = startOfWallDay(wallOf(from, schedule.timezone));
    const until = new Date(firstDay);
    until.setUTCMonth(until.getUTCMonth() + months);
    for (let day = firstDay; day < until.getTime(); day += DAY_MS) {
      if (!schedule.days.includes(DAYS[weekdayOfWall(day)] as Day)) continue;
      found.push({ schedule, day, wall: day + schedule.minute * MINUTE_MS });
    }
  }
  return found;
}

/**
 * For each boundary schedule, the dates in [from, from + months) whose boundary time does not
 * exist (spring forward): a one-time schedule at the end of the gap takes its place.
 */
export function gapSchedules(policy: Policy, from: number, months = HORIZON_MONTHS): GapSchedule[] {
  const found: GapSchedule[] = [];
  for (const { schedule, day, wall } of dueDays(policy, from, months)) {
    const { timezone } = schedule;
    const at = instantOfWall(wall, timezone);
    const shows = wallOf(at, timezone);
    if (shows === wall || at <= from) continue;
    const date = new Date(day).toISOString().slice(0, 10);
    found.push({
      name: `gap-${zoneSlug(timezone)}-${date.replaceAll('-', '')}-${formatMinutes(schedule.minute).replace(':', '')}`,
      timezone,
      skipped: formatMinutes(schedule.minute),
      date,
      at,
      rules: schedule.rules,
      expression: `at(${new Date(shows).toISOString().slice(0, 19)})`,
    });
  }
  return found.sort((a, b) => a.at - b.at || a.name.localeCompare(b.name));
}

/**
 * The boundaries in [from, from + months) whose local time occurs twice (fall back): EventBridge
 * Scheduler runs them once, at the first occurrence, as the policy means. For `sampling:check`.
 */
export function repeatedBoundaries(
  policy: Policy,
  from: number,
  months = HORIZON_MONTHS,
): { timezone: string; time: string; date: string; at: number; rules: string[] }[] {
  return dueDays(policy, from, months)
    .filter(({ schedule, wall }) => occursTwice(wall, schedule.timezone))
    .map(({ schedule, day, wall }) => ({
      timezone: schedule.timezone,
      time: formatMinutes(schedule.minute),
      date: new Date(day).toISOString().slice(0, 10),
      at: instantOfWall(wall, schedule.timezone),
      rules: schedule.rules,
    }))
    .filter((each) => each.at > from)
    .sort((a, b) => a.at - b.at);
}

/** The rules corrected every 15 minutes, not only at their boundaries. */
export function enforcedRules(policy: Policy): string[] {
  return policy.rules.filter((rule) => rule.enforce).map((rule) => rule.name);
}
