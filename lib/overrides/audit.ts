/**
 * The audit lines of overrides: `sampling_override.set` when one is stored, and
 * `sampling_override.end` when one ends — `expired` (its time came and its stream was set
 * right), `released` (ended early by a person or a system), `replaced` (a new override of the
 * same key took its place while it held). Each with the actor, the reason, the stream's rate
 * before → after and the override's times. The stream's own change is its `event_stream.update`
 * line.
 */
import { type Actor, audit } from '../observability/audit.ts';
import { formatUtc } from '../sampling/zone.ts';
import type { StoredOverride } from './store.ts';

export type EndCause = 'expired' | 'released' | 'replaced';

function times(override: StoredOverride) {
  return {
    key: override.key,
    override_rate: override.sampling_rate,
    starts_at: formatUtc(override.starts_at),
    expires_at: formatUtc(override.expires_at),
    reason: override.reason,
    set_by: override.actor,
  };
}

/** An override was stored; `rates`: the stream's rate before, and what it holds while it lasts. */
export function auditOverrideSet(
  override: StoredOverride,
  actor: Actor,
  rates: { before: number | null; after: number | null },
): void {
  audit({
    actor,
    action: 'sampling_override.set',
    stream_id: override.stream_id,
    outcome: 'success',
    changes: { sampling_rate: rates },
    context: times(override),
  });
}

/** An override ended; `rates`: the stream's rate before its end, and after. */
export function auditOverrideEnd(
  override: StoredOverride,
  cause: EndCause,
  actor: Actor,
  rates: { before: number | null; after: number | null },
): void {
  audit({
    actor,
    action: 'sampling_override.end',
    stream_id: override.stream_id,
    outcome: 'success',
    changes: { sampling_rate: rates },
    context: { cause, ...times(override) },
  });
}
