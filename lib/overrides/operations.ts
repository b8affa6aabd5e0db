/**
 * Setting and ending an override: what HTTP, Slack and the alert webhooks do alike. A set stores
 * the override (in place of the stream's one of the same key), schedules its start and end,
 * sets the stream now when the override holds now and the rate differs, and says where the
 * stream goes when it ends. An end shortens the override to now, deletes its schedules, sets the
 * stream to its effective rate and removes the record. A schedule that cannot be made is logged:
 * the 15-minute enforce run does its work (at most 15 minutes late).
 */

import { HttpProblem, problemOf } from '../http/problem.ts';
import type { EventStream } from '../ngrok/schemas.ts';
import { type Actor, audited, changedFields } from '../observability/audit.ts';
import { logger } from '../observability/logger.ts';
import { type Effective, effectiveRate, holds, restoreRate } from '../sampling/effective.ts';
import { governingRule, sameRate } from '../sampling/evaluate.ts';
import { changedMeanwhile, type Run } from '../sampling/run.ts';
import { formatUtc } from '../sampling/zone.ts';
import type { RateThen } from '../schemas/sampling-api.ts';
import { auditOverrideEnd, auditOverrideSet } from './audit.ts';
import { type ScheduleTarget, scheduleOverride, unscheduleOverride } from './schedules.ts';
import {
  endOverride,
  overridesOf,
  putOverride,
  removeEnded,
  type StoredOverride,
} from './store.ts';

/** The key of the override a person sets (HTTP, Slack): one per stream. */
export const MANUAL_KEY = 'manual';

export interface SetRequest {
  streamId: string;
  key: string;
  rate: number;
  startsAt: number;
  expiresAt: number;
  reason: string;
  actor: Actor;
}

export interface SetResult {
  override: StoredOverride;
  /** The stream after the set (changed now if the override holds now). */
  stream: EventStream;
  /** Its rate before. */
  before: number;
  /** What the stream goes to when the override ends (null: the service leaves it then). */
  afterwards: RateThen | null;
  /** The governing rule's zone, for people: null when no rule governs the stream. */
  timezone: string | null;
}

function thenOf(effective: Effective | undefined, at: number): RateThen | null {
  return effective
    ? { at: formatUtc(at), sampling_rate: effective.rate, source: effective.source }
    : null;
}

/** Sets the stream to `rate` (audited) unless it is at it already; the stream after. */
async function setRate(
  run: Run,
  stream: EventStream,
  rate: number | undefined,
  actor: Actor,
  context: Record<string, unknown>,
): Promise<EventStream> {
  if (rate === undefined || sameRate(stream.sampling_rate, rate)) return stream;
  return audited(
    { actor, action: 'event_stream.update', stream_id: stream.id, context },
    async () => {
      const updated = await run.ngrok.eventStreams.update(
        stream.id,
        { sampling_rate: rate },
        run.call,
      );
      return { result: updated, changes: changedFields(stream, updated, ['sampling_rate']) };
    },
  );
}

export async function scheduled(
  what: string,
  streamId: string,
  work: () => Promise<void>,
): Promise<void> {
  try {
    await work();
  } catch (error) {
    logger.error(
      `The override's schedules could not be ${what}: the 15-minute enforce run sets the stream instead`,
      { stream_id: streamId, error: (error as Error).name },
    );
  }
}

/** At most this many passes to keep a stream right while its overrides change under it. */
const PASSES = 3;

/**
 * Sets the stream to its effective rate now with the overrides `seen`, then reads them again:
 * if another set or end of the stream came meanwhile, the stream is read and set again with
 * them, so that of two operations at the same moment neither is lost. The stream after.
 */
export async function keepRight(
  run: Run,
  stream: EventStream,
  seen: StoredOverride[],
  actor: Actor,
  context: Record<string, unknown>,
): Promise<{ stream: EventStream; effective: Effective | undefined }> {
  let current = stream;
  let overrides = seen;
  let effective: Effective | undefined;
  for (let pass = 0; pass < PASSES; pass++) {
    effective = effectiveRate(run.policy, current, overrides, Date.now());
    current = await setRate(run, current, effective?.rate, actor, context);
    const stored = await overridesOf(current.id);
    if (!changedMeanwhile(overrides, stored, current.id, Date.now())) break;
    overrides = stored;
    current = await run.ngrok.eventStreams.get(current.id, run.call);
  }
  return { stream: current, effective };
}

export async function setOverride(
  run: Run,
  request: SetRequest,
  target: ScheduleTarget,
  now: number,
): Promise<SetResult> {
  const stream = await run.ngrok.eventStreams.get(request.streamId, run.call);
  const existing = await overridesOf(stream.id);
  const rule = governingRule(run.policy, stream);
  const restore = rule ? undefined : (restoreRate(existing, stream.id) ?? stream.sampling_rate);
  const override: StoredOverride = {
    stream_id: stream.id,
    key: request.key,
    sampling_rate: request.rate,
    starts_at: request.startsAt,
    expires_at: request.expiresAt,
    created_at: now,
    reason: request.reason,
    actor: request.actor,
    ...(restore !== undefined ? { restore_rate: restore } : {}),
  };
  const replaced = await putOverride(override);
  auditOverrideSet(override, request.actor, {
    before: stream.sampling_rate,
    after: override.sampling_rate,
  });
  const overrides = [...existing.filter((each) => each.key !== override.key), override];
  await scheduled('made', stream.id, () => scheduleOverride(target, override, now));
  const replacedHeld = replaced !== undefined && holds(replaced, now);
  let after = stream;
  // The stream changes now only if the new override holds now, or the one it replaced did.
  if (holds(override, now) || replacedHeld) {
    after = (
      await keepRight(run, stream, overrides, request.actor, {
        cause: 'override',
        override: override.key,
      })
    ).stream;
  }
  if (replaced && (replacedHeld || (replaced.expires_at <= now && !replaced.released))) {
    // Replaced while it held; or it had ended and its end was not settled yet: its end now.
    auditOverrideEnd(replaced, replacedHeld ? 'replaced' : 'expired', request.actor, {
      before: stream.sampling_rate,
      after: after.sampling_rate,
    });
  }
  return {
    override,
    stream: after,
    before: stream.sampling_rate,
    afterwards: thenOf(
      effectiveRate(run.policy, stream, overrides, override.expires_at),
      override.expires_at,
    ),
    timezone: rule?.timezone ?? null,
  };
}

/**
 * Ends the stream's override of `key` now and deletes its schedules: the override as ended and
 * the stream's overrides after; undefined when it had none that held or was to come. Once the
 * stream is at its effective rate, `removeEnded(ended, …)` settles the record.
 */
export async function endNow(
  streamId: string,
  key: string,
  target: ScheduleTarget,
  now: number,
  deadline?: number,
): Promise<{ ended: StoredOverride; overrides: StoredOverride[] } | undefined> {
  const ended = await endOverride(streamId, key, now);
  if (!ended) return undefined;
  await scheduled('deleted', streamId, () => unscheduleOverride(target, ended, deadline));
  return { ended, overrides: await overridesOf(streamId) };
}

export interface EndResult {
  ended: StoredOverride;
  stream: EventStream;
  before: number;
  /** What the stream is at now, and why. */
  now: RateThen | null;
}

/**
 * Ends the stream's override of `key` now; undefined when it has none that holds or is to come.
 * The end is stored and audited first: if ngrok then fails, the answer says that the override
 * has ended and the 15-minute run sets the stream.
 */
export async function releaseOverride(
  run: Run,
  streamId: string,
  key: string,
  actor: Actor,
  target: ScheduleTarget,
  now: number,
): Promise<EndResult | undefined> {
  const stream = await run.ngrok.eventStreams.get(streamId, run.call);
  const end = await endNow(stream.id, key, target, now);
  if (!end) return undefined;
  const { ended, overrides } = end;
  const intended = effectiveRate(run.policy, stream, overrides, now);
  auditOverrideEnd(ended, 'released', actor, {
    before: stream.sampling_rate,
    after: intended?.rate ?? stream.sampling_rate,
  });
  let kept: Awaited<ReturnType<typeof keepRight>>;
  try {
    kept = await keepRight(run, stream, overrides, actor, {
      cause: 'override',
      override: key,
      released: true,
    });
  } catch (error) {
    const fields = problemOf(error);
    throw new HttpProblem(
      {
        ...fields,
        detail: `${fields.detail} The override has ended; the stream is set to its rate by the next 15-minute run.`,
      },
      { cause: error },
    );
  }
  await removeEnded(ended, Date.now());
  return {
    ended,
    stream: kept.stream,
    before: stream.sampling_rate,
    now: thenOf(kept.effective, now),
  };
}
