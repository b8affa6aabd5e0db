/**
 * A run of the sampling schedule against ngrok: list the streams the policy governs, plan each
 * one's rate at an instant, and apply the plan. The boundary function, the plan and apply routes
 * and the chat command all get their run from ./session.ts and plan or apply with it here, so
 * that a stream's desired rate is decided in one place (`planStream`). N streams cost ⌈N/100⌉
 * list pages plus one PATCH per stream that changes, each request paced (./pace.ts); one failing
 * stream does not stop the others; every change is an audit line.
 */
import type { NgrokClient } from '../ngrok/client.ts';
import {
  NgrokApiError,
  NgrokInvalidResponseError,
  NgrokNetworkError,
  NgrokTimeoutError,
} from '../ngrok/errors.ts';
import type { EventStream } from '../ngrok/schemas.ts';
import type { CallOptions } from '../ngrok/transport.ts';
import { type Actor, audited, changedFields } from '../observability/audit.ts';
import { logger } from '../observability/logger.ts';
import { auditOverrideEnd } from '../overrides/audit.ts';
import { presentOverride } from '../overrides/present.ts';
import { overridesOf, removeEnded, type StoredOverride } from '../overrides/store.ts';
import type { PlannedStream, SamplingAnswer, Summary } from '../schemas/sampling-api.ts';
import { effectiveRate, nextSet } from './effective.ts';
import { governingRule, sameRate } from './evaluate.ts';
import type { Pacer } from './pace.ts';
import { type Policy, windowName } from './types.ts';
import { formatLocalInstant, formatUtc } from './zone.ts';

const PAGE_SIZE = 100;
/** No PATCH is started with less time than this left: it could not finish, retries included. */
const PATCH_MARGIN_MS = 2_000;

/**
 * When a run plans: one instant for every governed stream, or a rule's name → the instant of its
 * streams, for the rules named alone (a boundary run: each rule's own boundary).
 */
export type PlanAt = number | ReadonlyMap<string, number>;

/** What a plan or an apply answers: every stream planned, and how many of each action. */
export type RunResult = Pick<SamplingAnswer, 'streams' | 'summary'>;

/** One run's client, call options, pacer, deadline and policy (./session.ts builds it). */
export interface Run {
  ngrok: NgrokClient;
  call: CallOptions;
  pacer: Pacer;
  /** When the run must be over (ms since the epoch): nothing is started that would pass it. */
  deadline: number;
  /** What decides each stream's rule and rate. */
  policy: Policy;
  /** Every override stored when the run began (ended ones not yet settled too). */
  overrides: StoredOverride[];
}

export interface ApplyOptions {
  actor: Actor;
  /** Why the stream is set (in the audit line): a boundary, an enforce run, apply, an override. */
  cause: 'boundary' | 'enforce' | 'apply' | 'override';
  /** More for the audit line: the scheduled time of a boundary. */
  context?: Record<string, unknown>;
  /**
   * A boundary run: a stream is left alone once its rule's next boundary after the instant
   * planned for (the plan's `next_change`) has passed while the run went on: that boundary's
   * run sets it.
   */
  untilNextBoundary?: boolean;
  /**
   * Once a stream is at its effective rate, remove its overrides that have ended (their end is
   * then done) and audit each end: the scheduled runs, whose function may write the table.
   */
  settle?: boolean;
}

/**
 * Every stream, newest first, page after page, each page in the pacer's turn. `beforePage` is
 * asked first (0 for the first page) and may throw to stop; `outOfTime` gives what is thrown
 * when a page's turn would come after the deadline (default: an NgrokTimeoutError).
 */
export function listStreams(
  run: Run,
  options: { beforePage?: (index: number) => void; outOfTime?: () => Error } = {},
): AsyncGenerator<EventStream> {
  return run.ngrok.eventStreams.listAll({ limit: PAGE_SIZE }, run.call, async (index) => {
    options.beforePage?.(index);
    if (!(await run.pacer.turn(run.deadline))) {
      throw options.outOfTime?.() ?? new NgrokTimeoutError('event_streams.list');
    }
  });
}

/**
 * The plan for one stream at `at`; undefined when the service leaves it alone (no rule governs
 * it and no override of it has started).
 */
export function planOf(run: Run, stream: EventStream, at: number): PlannedStream | undefined {
  return planStream(run, stream, at);
}

/** Whether an override of the stream has started by the instant (it holds, or ended unsettled). */
function startedOverride(run: Run, streamId: string, instant: number): boolean {
  return run.overrides.some(
    (override) => override.stream_id === streamId && override.starts_at <= instant,
  );
}

/**
 * Every stream that a rule of the policy governs (a rule `at` names, if it names rules), listing
 * every page, planned at its instant; and every stream an override of which has started by
 * `overriddenAt` (default: `at`, when it is one instant), whatever rule governs it.
 */
export async function plan(
  run: Run,
  at: PlanAt,
  overriddenAt: number | undefined = typeof at === 'number' ? at : undefined,
  /** A run that sets streams: the overrides that hold now count, whatever instant is planned. */
  runAt?: number,
): Promise<RunResult> {
  const streams: PlannedStream[] = [];
  for await (const stream of listStreams(run)) {
    const rule = governingRule(run.policy, stream);
    let instant = rule && (typeof at === 'number' ? at : at.get(rule.name));
    if (
      instant === undefined &&
      overriddenAt !== undefined &&
      startedOverride(run, stream.id, overriddenAt)
    ) {
      instant = overriddenAt;
    }
    const planned =
      instant === undefined ? undefined : planStream(run, stream, instant, runAt ?? instant);
    if (planned) streams.push(planned);
  }
  return { streams, summary: summarize(streams) };
}

/**
 * The plan for one stream: its effective rate at `instant` (./effective.ts: an override's, else
 * its rule's, else the rate it had before its overrides), and what would be done: `held` when
 * an override holds it at that rate already.
 */
function planStream(
  run: Run,
  stream: EventStream,
  instant: number,
  runAt: number = instant,
): PlannedStream | undefined {
  const effective = effectiveRate(run.policy, stream, run.overrides, instant, runAt);
  if (!effective) return undefined;
  const planned = planFor(stream, effective, nextSet(run.policy, stream, run.overrides, instant));
  PLANNED_AT.set(planned, { instant, runAt });
  return planned;
}

/** When each planned stream was planned: the rule's instant, and the overrides' (the run's). */
const PLANNED_AT = new WeakMap<PlannedStream, { instant: number; runAt: number }>();

function planFor(
  stream: EventStream,
  effective: NonNullable<ReturnType<typeof effectiveRate>>,
  next: ReturnType<typeof nextSet>,
): PlannedStream {
  const same = sameRate(stream.sampling_rate, effective.rate);
  const timezone = effective.rule?.timezone ?? 'UTC';
  return {
    id: stream.id,
    description: stream.description,
    rule: effective.rule?.name ?? null,
    window: windowName(effective.window),
    current_rate: stream.sampling_rate,
    desired_rate: effective.rate,
    override: effective.override ? presentOverride(effective.override as StoredOverride) : null,
    action: same ? (effective.source === 'override' ? 'held' : 'none') : 'change',
    next_change: next
      ? {
          at: formatUtc(next.at),
          local: formatLocalInstant(next.at, timezone),
          timezone,
          rate: next.effective.rate,
          source: next.effective.source,
        }
      : null,
  };
}

/** What went wrong with one stream, safe to show: no upstream text, no key, no URL. */
export function failureOf(error: unknown): string {
  if (error instanceof NgrokApiError) {
    return `ngrok answered HTTP ${error.status}${error.errorCode ? ` (${error.errorCode})` : ''}`;
  }
  if (error instanceof NgrokTimeoutError) return 'ngrok did not answer in time';
  if (error instanceof NgrokNetworkError) return 'ngrok could not be reached';
  if (error instanceof NgrokInvalidResponseError) return 'ngrok gave an answer that cannot be read';
  return 'the change failed';
}

export const SUPERSEDED =
  'not set: a later boundary of its rule passed during the run, and sets it';

/**
 * The plan, applied: each stream whose plan says `change` is set to its desired rate, one paced
 * PATCH each; every stream is marked `changed`, `unchanged` or `failed` (with why). Never throws
 * for one stream.
 */
export async function apply(
  run: Run,
  at: PlanAt,
  options: ApplyOptions,
  overriddenAt?: number,
): Promise<RunResult> {
  const { streams } = await plan(run, at, overriddenAt, Date.now());
  for (const item of streams) await setPlanned(run, item, options);
  return { streams, summary: summarize(streams) };
}

/** At most this many passes over one stream: a second when its overrides changed meanwhile. */
const STREAM_PASSES = 3;

/**
 * One stream set to its effective rate at `at` (an override's start or end): read, planned and
 * applied as apply() does. When its overrides changed while it was set (a set or an end at the
 * same moment), it is planned and set again with them, so that neither is lost. A stream gone
 * from ngrok is nothing to set.
 */
export async function applyStream(
  run: Run,
  streamId: string,
  at: number,
  options: ApplyOptions,
): Promise<RunResult> {
  let item: PlannedStream | undefined;
  for (let pass = 0; pass < STREAM_PASSES; pass++) {
    if (!(await run.pacer.turn(run.deadline))) throw new NgrokTimeoutError('event_streams.get');
    let stream: EventStream;
    try {
      stream = await run.ngrok.eventStreams.get(streamId, run.call);
    } catch (error) {
      if (!(error instanceof NgrokApiError && error.status === 404)) throw error;
      // The stream is gone: its ended overrides have nothing left to set.
      if (options.settle) await removeGone(run, streamId);
      break;
    }
    item = planStream(run, stream, Math.max(at, Date.now()));
    if (!item) break;
    await setPlanned(run, item, options);
    if (item.action === 'failed') break;
    const stored = await overridesOf(streamId);
    if (!changedMeanwhile(run.overrides, stored, streamId, Date.now())) break;
    run.overrides = [...run.overrides.filter((each) => each.stream_id !== streamId), ...stored];
  }
  const streams = item ? [item] : [];
  return { streams, summary: summarize(streams) };
}

/**
 * Whether the stream's overrides changed since they were read: one stored that was not read (set,
 * replaced, moved or ended early), or one read that had not ended and is gone.
 */
export function changedMeanwhile(
  read: readonly StoredOverride[],
  stored: readonly StoredOverride[],
  streamId: string,
  now: number,
): boolean {
  const id = (each: StoredOverride) => `${each.key}#${each.created_at}#${each.expires_at}`;
  const before = read.filter((each) => each.stream_id === streamId);
  const known = new Set(before.map(id));
  const still = new Set(stored.map(id));
  return (
    stored.some((each) => !known.has(id(each))) ||
    before.some((each) => each.expires_at > now && !still.has(id(each)))
  );
}

/**
 * One planned stream, applied: set to its desired rate if its plan says `change` (one paced
 * PATCH), then marked `changed`, `unchanged`, `held` or `failed` (with why). Never throws.
 */
async function setPlanned(run: Run, item: PlannedStream, options: ApplyOptions): Promise<void> {
  if (item.action === 'none') item.action = 'unchanged';
  if (item.action === 'change') {
    if (
      options.untilNextBoundary &&
      item.next_change &&
      Date.parse(item.next_change.at) <= Date.now()
    ) {
      item.action = 'unchanged';
      item.error = SUPERSEDED;
      return;
    }
    if (!(await run.pacer.turn(run.deadline - PATCH_MARGIN_MS))) {
      item.action = 'failed';
      item.error = 'not reached before the deadline: run again to finish';
      return;
    }
    if (!(await stillPlanned(run, item))) {
      item.action = 'failed';
      item.error = 'not set: its overrides could not be read again before the change';
      return;
    }
  }
  if (item.action === 'change') {
    try {
      await audited(
        {
          actor: options.actor,
          action: 'event_stream.update',
          stream_id: item.id,
          context: {
            cause: options.cause,
            rule: item.rule,
            window: item.window,
            ...(item.override ? { override: item.override.key } : {}),
            ...options.context,
          },
        },
        async () => {
          const updated = await run.ngrok.eventStreams.update(
            item.id,
            { sampling_rate: item.desired_rate },
            run.call,
          );
          const before = { sampling_rate: item.current_rate };
          return { result: updated, changes: changedFields(before, updated, ['sampling_rate']) };
        },
      );
      item.action = 'changed';
    } catch (error) {
      item.action = 'failed';
      item.error = failureOf(error);
      return;
    }
  }
  // A stream planned again (stillPlanned) may need nothing now.
  if ((item.action as PlannedStream['action']) === 'none') item.action = 'unchanged';
  if (options.settle) await settleEnded(run, item, options.actor);
}

/**
 * Just before a stream is changed: its overrides read again, and if one was set, moved or ended
 * since the run read them (a run is paced: minutes may pass), the stream planned again with
 * them — a run never undoes an override set while it went on. False when they cannot be read.
 */
async function stillPlanned(run: Run, item: PlannedStream): Promise<boolean> {
  const at = PLANNED_AT.get(item);
  let stored: StoredOverride[];
  try {
    stored = await overridesOf(item.id);
  } catch {
    return false;
  }
  const now = Date.now();
  if (!at || !changedMeanwhile(run.overrides, stored, item.id, now)) return true;
  run.overrides = [...run.overrides.filter((each) => each.stream_id !== item.id), ...stored];
  const stream = {
    id: item.id,
    description: item.description,
    sampling_rate: item.current_rate,
  } as EventStream;
  const again = planStream(run, stream, at.instant, Math.max(at.runAt, now));
  if (again) {
    Object.assign(item, again);
    PLANNED_AT.set(item, PLANNED_AT.get(again) ?? at);
  } else {
    item.action = 'none';
  }
  return true;
}

async function removeGone(run: Run, streamId: string): Promise<void> {
  const now = Date.now();
  for (const override of run.overrides) {
    if (override.stream_id !== streamId || override.expires_at > now) continue;
    if (await removeEnded(override, now).catch(() => false)) {
      logger.info('An ended override of a stream ngrok no longer has was removed', {
        stream_id: streamId,
        key: override.key,
      });
    }
  }
}

/**
 * The stream is at its effective rate: its overrides that have ended are done. Each is removed
 * (only if it is still the record read, and has ended) and its end audited, once. A record
 * that cannot be removed now stays for the next run.
 */
async function settleEnded(run: Run, item: PlannedStream, actor: Actor): Promise<void> {
  // Only what had ended when the stream was planned: an override that ended since is not done
  // (the stream was planned with it holding; its end's run sets it).
  const plannedAt = PLANNED_AT.get(item)?.runAt ?? 0;
  for (const override of run.overrides) {
    if (override.stream_id !== item.id || override.expires_at > plannedAt) continue;
    let removed = false;
    try {
      removed = await removeEnded(override, plannedAt);
    } catch (error) {
      logger.warn('An ended override could not be removed: the next run tries again', {
        stream_id: item.id,
        key: override.key,
        error: (error as Error).name,
      });
    }
    // One ended early was audited when it was released.
    if (!removed || override.released) continue;
    auditOverrideEnd(override, 'expired', actor, {
      before: item.current_rate,
      after: item.desired_rate,
    });
  }
}

export function summarize(planned: readonly PlannedStream[]): Summary {
  const summary: Summary = {
    streams: planned.length,
    change: 0,
    none: 0,
    held: 0,
    changed: 0,
    unchanged: 0,
    failed: 0,
  };
  for (const item of planned) summary[item.action]++;
  return summary;
}
