/**
 * The scheduler's target (EventBridge Scheduler, asynchronous): at a boundary of the sampling
 * schedule, set the streams of the rules named in the event to the rate that holds from the
 * scheduled time on; for `enforce`, to the rate that holds now. Fails when a stream could not be
 * set, so that Lambda retries the event (harmless: only streams that differ are patched).
 */
import { job } from '../lib/jobs/job.ts';
import { runScheduleEvent, ScheduleEvent } from '../lib/sampling/scheduled-run.ts';

export const handler = job(
  { operation: 'applySamplingSchedule', input: ScheduleEvent, correlation: 'execution_id' },
  runScheduleEvent,
);
