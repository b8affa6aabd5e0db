/**
 * The single source of truth of the sampling schedule: which rule governs a stream, the rate
 * that holds for it at an instant, and the instants the schedule sets it (its boundaries).
 * Schedules, the boundary run, plan, apply and the tests all ask these functions. Pure.
 *
 * A window occurrence on local day D holds on [start, end) where start is D's `start` and end is
 * D's (or, crossing midnight, D+1's) `end`, each local time taken to the instant it takes effect
 * (./zone.ts: the end of a daylight-saving gap, the first of two occurrences).
 */
import { DAYS, type Policy, type Rule, type Window } from './types.ts';
import { DAY_MS, instantOfWall, MINUTE_MS, startOfWallDay, wallOf, weekdayOfWall } from './zone.ts';

/** Rates are compared with this tolerance, never with float equality. */
export const RATE_TOLERANCE = 1e-9;

export function sameRate(a: number, b: number): boolean {
  return Math.abs(a - b) < RATE_TOLERANCE;
}

export interface StreamRef {
  id: string;
  description: string;
}

/**
 * The rule that governs a stream: one that names its id, else the one with the longest
 * description prefix it starts with; undefined when no rule selects it (it is never touched).
 */
export function governingRule(policy: Policy, stream: StreamRef): Rule | undefined {
  let best: Rule | undefined;
  let bestLength = -1;
  for (const rule of policy.rules) {
    if (rule.streams.ids.includes(stream.id)) return rule;
    const prefix = rule.streams.description_prefix;
    if (prefix !== null && stream.description.startsWith(prefix) && prefix.length > bestLength) {
      best = rule;
      bestLength = prefix.length;
    }
  }
  return best;
}

interface Occurrence {
  window: Window;
  start: number;
  end: number;
  /** Local wall times of the start and end. */
  startWall: number;
  endWall: number;
}

/** The occurrences of the rule's windows that start on the local day beginning at `dayWall`. */
function occurrencesOn(rule: Rule, dayWall: number): Occurrence[] {
  const day = DAYS[weekdayOfWall(dayWall)];
  const found: Occurrence[] = [];
  for (const window of rule.windows) {
    if (!window.days.includes(day as (typeof DAYS)[number])) continue;
    const startWall = dayWall + window.start * MINUTE_MS;
    const endWall =
      dayWall + (window.end > window.start ? window.end : window.end + 1440) * MINUTE_MS;
    found.push({
      window,
      startWall,
      endWall,
      start: instantOfWall(startWall, rule.timezone),
      end: instantOfWall(endWall, rule.timezone),
    });
  }
  return found;
}

export interface RateAt {
  rate: number;
  /** The window that holds, or null: the rule's default rate. */
  window: Window | null;
}

/** The rate that holds for the rule's streams at the instant (ms since the epoch). */
export function rateAt(rule: Rule, instant: number): RateAt {
  const today = startOfWallDay(wallOf(instant, rule.timezone));
  // An occurrence that holds now started today or yesterday (it crosses midnight at most once);
  // a day more either side covers clocks that jump across midnight.
  for (let day = today - 2 * DAY_MS; day <= today + DAY_MS; day += DAY_MS) {
    for (const occurrence of occurrencesOn(rule, day)) {
      if (occurrence.start <= instant && instant < occurrence.end) {
        return { rate: occurrence.window.rate, window: occurrence.window };
      }
    }
  }
  return { rate: rule.default_rate, window: null };
}

export interface Boundary {
  /** The instant the schedule sets the rule's streams. */
  at: number;
  /** The local wall time of the boundary (it may not exist, or occur twice, that day). */
  wall: number;
}

/** Every boundary of the rule whose local day falls in [fromWall, toWall), by instant. */
export function boundariesBetween(rule: Rule, fromWall: number, toWall: number): Boundary[] {
  const found: Boundary[] = [];
  for (let day = startOfWallDay(fromWall) - DAY_MS; day < toWall; day += DAY_MS) {
    for (const occurrence of occurrencesOn(rule, day)) {
      found.push({ at: occurrence.start, wall: occurrence.startWall });
      found.push({ at: occurrence.end, wall: occurrence.endWall });
    }
  }
  // One window's end and the next one's start (or the same instant twice) are one boundary.
  return found
    .filter((boundary) => boundary.wall >= fromWall && boundary.wall < toWall)
    .sort((a, b) => a.at - b.at || a.wall - b.wall)
    .filter((boundary, index, all) => index === 0 || all[index - 1]?.at !== boundary.at);
}

export interface NextChange {
  at: number;
  rate: number;
  window: Window | null;
}

/**
 * When the schedule next sets the rule's streams after `instant`, and to what: its next boundary
 * (a stream changed by hand since is set back then). Undefined for a rule without windows.
 */
export function nextChange(rule: Rule, instant: number): NextChange | undefined {
  if (rule.windows.length === 0) return undefined;
  const wall = wallOf(instant, rule.timezone);
  const next = boundariesBetween(rule, startOfWallDay(wall) - DAY_MS, wall + 9 * DAY_MS).find(
    (boundary) => boundary.at > instant,
  );
  if (!next) return undefined;
  const { rate, window } = rateAt(rule, next.at);
  return { at: next.at, rate, window };
}

/**
 * Whether `instant` is one of the rule's boundaries: the instant it takes effect, or (for a
 * local time that occurs twice) its second occurrence, to the minute.
 */
export function isBoundary(rule: Rule, instant: number): boolean {
  const wall = wallOf(instant, rule.timezone);
  const minuteWall = Math.floor(wall / MINUTE_MS) * MINUTE_MS;
  return boundariesBetween(rule, minuteWall - 2 * DAY_MS, minuteWall + 2 * DAY_MS).some(
    (boundary) => Math.abs(boundary.at - instant) < MINUTE_MS || boundary.wall === minuteWall,
  );
}

/** The rule of the policy with this name. */
export function ruleNamed(policy: Policy, name: string): Rule | undefined {
  return policy.rules.find((rule) => rule.name === name);
}
