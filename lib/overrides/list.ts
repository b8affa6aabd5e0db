/**
 * The overrides that hold or are to come, each with its stream's effective rate now: for
 * `GET /sampling/overrides` and Slack's `overrides`. One ngrok read per stream that has one.
 */
import { NgrokApiError, NgrokTimeoutError } from '../ngrok/errors.ts';
import type { EventStream } from '../ngrok/schemas.ts';
import { effectiveRate } from '../sampling/effective.ts';
import type { Run } from '../sampling/run.ts';
import type { SamplingOverride } from '../schemas/sampling-api.ts';
import { presentOverride } from './present.ts';
import type { StoredOverride } from './store.ts';

export interface ListedOverride extends SamplingOverride {
  state: 'holding' | 'planned';
  effective_rate: number | null;
  effective_source: 'schedule' | 'override' | 'restore' | null;
}

/** The overrides that have not ended, soonest end first. */
export function liveOverrides(overrides: readonly StoredOverride[], now: number): StoredOverride[] {
  return overrides
    .filter((each) => each.expires_at > now)
    .sort((a, b) => a.expires_at - b.expires_at || a.stream_id.localeCompare(b.stream_id));
}

export async function listOverrides(run: Run, now: number): Promise<ListedOverride[]> {
  const live = liveOverrides(run.overrides, now);
  const streams = new Map<string, EventStream | undefined>();
  for (const id of new Set(live.map((each) => each.stream_id))) {
    if (!(await run.pacer.turn(run.deadline))) throw new NgrokTimeoutError('event_streams.get');
    try {
      streams.set(id, await run.ngrok.eventStreams.get(id, run.call));
    } catch (error) {
      if (!(error instanceof NgrokApiError && error.status === 404)) throw error;
      streams.set(id, undefined);
    }
  }
  return live.map((override) => {
    const stream = streams.get(override.stream_id);
    const effective = stream && effectiveRate(run.policy, stream, run.overrides, now);
    return {
      ...presentOverride(override),
      state: override.starts_at <= now ? 'holding' : 'planned',
      effective_rate: effective?.rate ?? null,
      effective_source: effective?.source ?? null,
    };
  });
}
