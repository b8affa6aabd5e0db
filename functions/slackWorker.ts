/**
 * The Slack command's worker (asynchronous invoke from slackCommand): runs a command that may
 * take longer than Slack's 3 seconds and posts its result to the command's response_url, once
 * per command however often Lambda delivers the event.
 */
import { job } from '../lib/jobs/job.ts';
import { WorkerEvent } from '../lib/slack/handoff.ts';
import { oncePerRequestId } from '../lib/slack/idempotency.ts';
import { runSlackWorker } from '../lib/slack/worker.ts';

export const handler = job(
  { operation: 'slackWorker', input: WorkerEvent, middlewares: [oncePerRequestId()] },
  runSlackWorker,
);
