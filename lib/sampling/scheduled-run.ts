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
import type { PlannedStream, Summary } from '../schemas/sampling-api.ts';
import { bundledPolicy } from './bundled.ts';
import { isBoundary, nextChange, ruleNamed } from './evaluate.ts';
import { apply, type RunResult, summarize } from './run.ts';
import { samplingRun } from './session.ts';

/** Time kept back from the Lambda's deadline for the run line and the answer. */
const RUN_MARGIN_MS = 1_000;

export const ScheduleEvent = z
  .strictObject({
    cause: z.enum(['boundary', 'enforce']),
    rules: z.array(z.string()).check(z.minLength(1)),
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
  for (const name of new Set(event.rules)) {
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

export async function runScheduleEvent(
  event: ScheduleEvent,
  context: JobContext,
): Promise<JobOutcome<ScheduleRunResult>> {
  const now = Date.now();
  const { active, skipped } = activeRules(event, now);
  const { streams, summary }: RunResult =
    active.size === 0
      ? { streams: [], summary: summarize([]) }
      : await samplingRun(
          context,
          (run) =>
            apply(run, active, {
              actor: { kind: 'schedule', name: 'scheduler' },
              cause: event.cause,
              context: event.scheduled_time ? { scheduled_time: event.scheduled_time } : {},
              // A long run stops setting a rule's streams once the rule's next boundary has come.
              untilNextBoundary: event.cause === 'boundary',
            }),
          { stopEarly: RUN_MARGIN_MS },
        );
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
