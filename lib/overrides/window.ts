/**
 * When an override holds, from what its caller asked: a start (default now, at most 30 days
 * ahead) and an end given as a duration or an instant. Every override ends: it lasts at least a
 * minute and at most `samplingOverrideMaxHours`. Whatever cannot be met is refused with why —
 * never ignored, never stretched. Pure: HTTP, Slack and the alert webhooks ask it alike.
 */
import { formatDuration } from '../sampling/duration.ts';
import { formatUtc } from '../sampling/zone.ts';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/** The shortest override. */
export const MIN_OVERRIDE_MS = MINUTE_MS;
/** How far ahead an override may start (a planned launch or load test). */
export const MAX_START_AHEAD_MS = 30 * DAY_MS;
/** A start this little in the past is taken as now (the caller's clock, the request's way). */
export const START_LEEWAY_MS = MINUTE_MS;

export interface WindowRequest {
  /** ms since the epoch; default: now. */
  startsAt?: number;
  /** How long from its start, in ms (exactly one of durationMs and until). */
  durationMs?: number;
  /** When it ends, ms since the epoch. */
  until?: number;
}

export type WindowResult =
  | { starts_at: number; expires_at: number }
  | { invalid: string; field: 'starts_at' | 'until' | 'duration' };

export function overrideWindow(
  request: WindowRequest,
  now: number,
  maxHours: number,
): WindowResult {
  let starts = request.startsAt ?? now;
  if (starts < now - START_LEEWAY_MS) {
    return {
      field: 'starts_at',
      invalid: `is in the past (${formatUtc(starts)}; now is ${formatUtc(now)}): leave it out to start now`,
    };
  }
  if (starts > now + MAX_START_AHEAD_MS) {
    return {
      field: 'starts_at',
      invalid: `is more than 30 days ahead (${formatUtc(starts)}): an override may be planned at most 30 days ahead`,
    };
  }
  starts = Math.max(starts, now);
  let expires: number;
  let field: 'until' | 'duration';
  if (request.until !== undefined) {
    field = 'until';
    if (request.until <= now) {
      return {
        field,
        invalid: `is in the past (${formatUtc(request.until)}; now is ${formatUtc(now)}): every override ends after it starts`,
      };
    }
    expires = request.until;
  } else {
    field = 'duration';
    expires = starts + (request.durationMs ?? 0);
  }
  const length = expires - starts;
  if (length < MIN_OVERRIDE_MS) {
    return {
      field,
      invalid: `gives an override of ${length > 0 ? formatDuration(length) : 'no time'} (from ${formatUtc(starts)} to ${formatUtc(expires)}): an override lasts at least 1 minute`,
    };
  }
  if (length > maxHours * HOUR_MS) {
    return {
      field,
      invalid: `gives an override of ${formatDuration(length)}, longer than the maximum of ${maxHours} hours (the samplingOverrideMaxHours setting): every override ends by itself`,
    };
  }
  return { starts_at: starts, expires_at: expires };
}
