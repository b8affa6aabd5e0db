/** An override as the API and chat show it: its instants in UTC, RFC 3339. */

import { formatUtc } from '../sampling/zone.ts';
import type { SamplingOverride } from '../schemas/sampling-api.ts';
import type { StoredOverride } from './store.ts';

export function presentOverride(override: StoredOverride): SamplingOverride {
  return {
    stream_id: override.stream_id,
    key: override.key,
    sampling_rate: override.sampling_rate,
    starts_at: formatUtc(override.starts_at),
    expires_at: formatUtc(override.expires_at),
    reason: override.reason,
    actor: override.actor,
    created_at: formatUtc(override.created_at),
  };
}
