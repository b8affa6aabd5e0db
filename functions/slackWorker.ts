/**
 * The Slack command's worker (asynchronous invoke from slackCommand): runs a command that may
 * take longer than Slack's 3 seconds and posts its result to the command's response_url, once
 * per command however often Lambda delivers the event.
 */
import { job } from '../lib/jobs/job.ts';
import { oncePerEvent } from '../lib/jobs/once.ts';
import { settings } from '../lib/settings.ts';
import { WorkerEvent } from '../lib/slack/handoff.ts';
import { runSlackWorker } from '../lib/slack/worker.ts';

/** A command's records are kept an hour: Lambda retries an event within half an hour. */
const ONCE_SECONDS = 3600;

export const handler = job(
  {
    operation: 'slackWorker',
    input: WorkerEvent,
    correlation: 'request_id',
    middlewares: [
      oncePerEvent({
        key: 'request_id',
        table: settings.slackIdempotencyTable,
        seconds: ONCE_SECONDS,
      }),
    ],
  },
  runSlackWorker,
);
