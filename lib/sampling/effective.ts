/**
 * The effective rate of a stream at an instant, beside the policy's evaluator (./evaluate.ts):
 * the one truth that boundary and enforce runs, apply, the plan, Slack and the alert webhooks
 * ask. Pure.
 *
 * - An override holds on [starts_at, expires_at); of those that hold, the one created last wins
 *   (then the greater key, so that two made in the same millisecond still agree everywhere).
 * - With none, the schedule's rate: the rule that governs the stream.
 * - A stream that no rule governs goes back to the rate it had just before the first of its
 *   overrides began (`restore_rate`, kept with each of them).
 *
 * Instants are milliseconds since the epoch; an override's are absolute (UTC), so that daylight
 * saving moves only the schedule's boundaries, never an override's start or end.
 */
import { governingRule, nextChange, rateAt, type StreamRef } from './evaluate.ts';
import type { Policy, Rule, Window } from './types.ts';

export interface Override {
  stream_id: string;
  /** `manual` for a person (HTTP, Slack: one per stream); a system's own key otherwise. */
  key: string;
  sampling_rate: number;
  starts_at: number;
  expires_at: number;
  created_at: number;
  /** For a stream no rule governs: the rate it had before its first override began. */
  restore_rate?: number;
}

export type RateSource = 'override' | 'schedule' | 'restore';

export interface Effective {
  rate: number;
  source: RateSource;
  /** The override that holds, or null. */
  override: Override | null;
  /** The rule that governs the stream, or null. */
  rule: Rule | null;
  /** The rule's window that holds (null: its default rate, or no rule). */
  window: Window | null;
}

/** Whether the override holds at the instant. */
export function holds(override: Override, instant: number): boolean {
  return override.starts_at <= instant && instant < override.expires_at;
}

/** Of two overrides that hold, the one that wins: created last, then the greater key. */
function newer(a: Override, b: Override): Override {
  if (a.created_at !== b.created_at) return a.created_at > b.created_at ? a : b;
  return a.key >= b.key ? a : b;
}

/** The override that holds for the stream at the instant, or undefined. */
export function holdingOverride(
  overrides: readonly Override[],
  streamId: string,
  instant: number,
): Override | undefined {
  let found: Override | undefined;
  for (const override of overrides) {
    if (override.stream_id !== streamId || !holds(override, instant)) continue;
    found = found ? newer(found, override) : override;
  }
  return found;
}

/** The rate a stream no rule governs goes back to: that of its earliest override that keeps one. */
export function restoreRate(overrides: readonly Override[], streamId: string): number | undefined {
  let earliest: Override | undefined;
  for (const override of overrides) {
    if (override.stream_id !== streamId || override.restore_rate === undefined) continue;
    if (!earliest || override.starts_at < earliest.starts_at) earliest = override;
  }
  return earliest?.restore_rate;
}

/**
 * The rate that holds for the stream at the instant, and why; undefined for a stream that no
 * rule governs and that has no override (the service leaves it alone).
 */
export function effectiveRate(
  policy: Policy,
  stream: StreamRef,
  overrides: readonly Override[],
  instant: number,
  /**
   * When the overrides are asked, if not at `instant`: a boundary run late after its boundary
   * sets the schedule's rate from the boundary on, unless an override holds at the time of the
   * run.
   */
  overridesAt: number = instant,
): Effective | undefined {
  const rule = governingRule(policy, stream) ?? null;
  const override = holdingOverride(overrides, stream.id, overridesAt);
  const scheduled = rule ? rateAt(rule, instant) : undefined;
  if (override) {
    return {
      rate: override.sampling_rate,
      source: 'override',
      override,
      rule,
      window: scheduled?.window ?? null,
    };
  }
  if (rule && scheduled) {
    return {
      rate: scheduled.rate,
      source: 'schedule',
      override: null,
      rule,
      window: scheduled.window,
    };
  }
  const restore = restoreRate(overrides, stream.id);
  if (restore === undefined) return undefined;
  return { rate: restore, source: 'restore', override: null, rule: null, window: null };
}

export interface NextSet {
  /** The instant the service next sets the stream. */
  at: number;
  /** What it sets it to then, and why. */
  effective: Effective;
}

/** At most this many boundaries are looked past, all inside overrides (a year of 15-minute ones). */
const MAX_COVERED_BOUNDARIES = 40_000;

/**
 * When the service next sets the stream after `instant`, and to what: an override's start or end
 * (the schedule fires then), or the rule's next boundary that no override covers — a boundary
 * inside an override sets nothing. Undefined when nothing is to come.
 */
export function nextSet(
  policy: Policy,
  stream: StreamRef,
  overrides: readonly Override[],
  instant: number,
): NextSet | undefined {
  let at = Number.POSITIVE_INFINITY;
  for (const override of overrides) {
    if (override.stream_id !== stream.id) continue;
    if (override.starts_at > instant) at = Math.min(at, override.starts_at);
    if (override.expires_at > instant) at = Math.min(at, override.expires_at);
  }
  const rule = governingRule(policy, stream);
  if (rule) {
    let from = instant;
    for (let looked = 0; looked < MAX_COVERED_BOUNDARIES; looked++) {
      const boundary = nextChange(rule, from);
      if (!boundary || boundary.at >= at) break;
      if (!holdingOverride(overrides, stream.id, boundary.at)) {
        at = boundary.at;
        break;
      }
      from = boundary.at;
    }
  }
  if (at === Number.POSITIVE_INFINITY) return undefined;
  const effective = effectiveRate(policy, stream, overrides, at);
  return effective ? { at, effective } : undefined;
}
