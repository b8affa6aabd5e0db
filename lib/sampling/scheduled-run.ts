/**
 * What the scheduler's target does with one event. At a boundary, for each rule named in the
 * event, every stream it governs is set to the rate that holds from the scheduled time on —
 * computed from the bundled policy, not carried in the event — and only streams whose rate
 * differs are patched. `enforce` events do the same for the rate that holds now. Streams of other
 * rules, and changes made by hand between boundaries, are left alone. A retry or a second
 * delivery of the same event changes nothing that is already right; one that comes after the
 * rule's next boundary has passed does nothing (that boundary's own run sets the streams).
 */
import * as z from 'zod/mini';
import type { JobContext, JobOutcome } from '../jobs/job.ts';
import { eventStreamId } from '../ngrok/schemas.ts';
import type { PlannedStream, Summary } from '../schemas/sampling-api.ts';
import { bundledPolicy } from './bundled.ts';
import { isBoundary, nextChange, ruleNamed } from './evaluate.ts';
import {
  type ApplyOptions,
  apply,
  applyStream,
  type Run,
  type RunResult,
  summarize,
} from './run.ts';
import { samplingRun } from './session.ts';

/** Time kept back from the Lambda's deadline for the run line and the answer. */
const RUN_MARGIN_MS = 1_000;

export const ScheduleEvent = z
  .strictObject({
    cause: z.enum(['boundary', 'enforce', 'override']),
    /** The rules whose streams a boundary or enforce run sets (enforce: maybe none). */
    rules: z.optional(z.array(z.string())),
    /** An override's start or end: the stream it sets. */
    stream_id: z.optional(eventStreamId),
    /** `<aws.scheduler.scheduled-time>`: when the boundary was due. */
    scheduled_time: z.optional(z.iso.datetime({ offset: true })),
    /** `<aws.scheduler.execution-id>`: the correlation id of the run's log lines. */
    execution_id: z.optional(z.string()),
  })
  .check(
    z.refine((event) => event.cause !== 'boundary' || event.scheduled_time !== undefined, {
      error: 'a boundary event needs scheduled_time',
      path: ['scheduled_time'],
    }),
    z.refine((event) => event.cause !== 'boundary' || (event.rules?.length ?? 0) > 0, {
      error: 'a boundary event names at least one rule',
      path: ['rules'],
    }),
    z.refine((event) => event.cause === 'override' || event.rules !== undefined, {
      error: 'a boundary or enforce event needs rules',
      path: ['rules'],
    }),
    z.refine((event) => (event.cause === 'override') === (event.stream_id !== undefined), {
      error: 'an override event names its stream_id, and only it',
      path: ['stream_id'],
    }),
  );
export type ScheduleEvent = z.infer<typeof ScheduleEvent>;

export class SamplingRunError extends Error {
  readonly summary: Summary;

  constructor(summary: Summary) {
    super(
      `${summary.failed} of ${summary.streams} streams were not set: the event is retried, and kept in the queue of failed events if it keeps failing`,
    );
    this.name = 'SamplingRunError';
    this.summary = summary;
  }
}

export interface ScheduleRunResult {
  cause: ScheduleEvent['cause'];
  scheduled_time: string | null;
  skipped: { rule: string; reason: string }[];
  streams: PlannedStream[];
  summary: Summary;
}

/** The rules this event sets, each (by name) with the instant its rate is evaluated at. */
function activeRules(
  event: ScheduleEvent,
  now: number,
): { active: Map<string, number>; skipped: ScheduleRunResult['skipped'] } {
  const policy = bundledPolicy();
  const active = new Map<string, number>();
  const skipped: ScheduleRunResult['skipped'] = [];
  const scheduled = event.scheduled_time === undefined ? now : Date.parse(event.scheduled_time);
  for (const name of new Set(event.rules ?? [])) {
    const rule = ruleNamed(policy, name);
    if (!rule) {
      skipped.push({ rule: name, reason: 'no rule of this name in the bundled policy' });
    } else if (event.cause === 'enforce') {
      if (rule.enforce) active.set(name, now);
      else skipped.push({ rule: name, reason: 'the rule is not enforced' });
    } else if (!isBoundary(rule, scheduled)) {
      skipped.push({ rule: name, reason: 'the scheduled time is not a boundary of this rule' });
    } else if ((nextChange(rule, scheduled)?.at ?? Number.POSITIVE_INFINITY) <= now) {
      skipped.push({ rule: name, reason: 'a later boundary has passed: its run sets the streams' });
    } else {
      active.set(name, scheduled);
    }
  }
  return { active, skipped };
}

/**
 * What one event sets. Boundary: the named rules' streams at the scheduled time (a stream an
 * override holds is left alone). Enforce: the enforced rules' streams, and every stream whose
 * override has started or ended (the backstop of a lost override schedule), at their rate now.
 * Override: the one stream, at its effective rate now (a second delivery, or one for an override
 * since moved or ended, finds it right and sets nothing). Every run then removes the overrides
 * that have ended of the streams it found right.
 */
function work(event: ScheduleEvent, active: Map<string, number>, now: number) {
  const options: ApplyOptions = {
    actor: { kind: 'schedule', name: 'scheduler' },
    cause: event.cause,
    context: event.scheduled_time ? { scheduled_time: event.scheduled_time } : {},
    // A long run stops setting a rule's streams once the rule's next boundary has come.
    untilNextBoundary: event.cause === 'boundary',
    settle: true,
  };
  return async (run: Run): Promise<RunResult> => {
    if (event.cause === 'override') {
      const due = event.scheduled_time ? Date.parse(event.scheduled_time) : now;
      return applyStream(run, event.stream_id as string, Math.max(now, due), options);
    }
    if (event.cause === 'boundary') return apply(run, active, options);
    const overridden = run.overrides.some((override) => override.starts_at <= now);
    if (active.size === 0 && !overridden) return { streams: [], summary: summarize([]) };
    return apply(run, active, options, now);
  };
}

export async function runScheduleEvent(
  event: ScheduleEvent,
  context: JobContext,
): Promise<JobOutcome<ScheduleRunResult>> {
  const now = Date.now();
  const { active, skipped } = activeRules(event, now);
  const { streams, summary }: RunResult =
    event.cause === 'boundary' && active.size === 0
      ? { streams: [], summary: summarize([]) }
      : await samplingRun(context, work(event, active, now), { stopEarly: RUN_MARGIN_MS });
  const result: ScheduleRunResult = {
    cause: event.cause,
    scheduled_time: event.scheduled_time ?? null,
    skipped,
    streams,
    summary,
  };
  return {
    result,
    report: {
      cause: event.cause,
      rules: event.rules,
      stream_id: event.stream_id,
      scheduled_time: event.scheduled_time,
      skipped,
      summary,
      failed_streams: streams
        .filter((stream) => stream.action === 'failed')
        .map(({ id, error }) => ({ id, error })),
    },
    ...(summary.failed > 0 ? { failure: new SamplingRunError(summary) } : {}),
  };
}
