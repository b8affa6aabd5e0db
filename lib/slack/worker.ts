/**
 * The worker: runs a command that the command function handed over (every page, its own
 * deadline), and posts the result to the command's response_url, replacing the "working on it…"
 * message — once: Powertools Idempotency (lib/jobs/once.ts) keeps a second delivery of the same
 * event from running or posting again. A failure of ngrok is posted as a message. A failure to
 * post is retried here (not by Lambda, which would run the command again) and then reported.
 * Only the worker sets and ends sampling overrides (the command function's bundle has no code
 * that could): it gives the commands those writes, their schedules' target from its own ARN.
 */

import { setTimeout as sleep } from 'node:timers/promises';
import { problemOf } from '../http/problem.ts';
import type { JobContext, JobOutcome } from '../jobs/job.ts';
import { MANUAL_KEY, releaseOverride, setOverride } from '../overrides/operations.ts';
import { scheduleTarget } from '../overrides/schedules.ts';
import { samplingRun } from '../sampling/session.ts';
import { execute, type OverrideWrites, parseCommand, refusalFor, slackActor } from './commands.ts';
import type { WorkerEvent } from './handoff.ts';
import { failureMessage, type SlackMessage } from './messages.ts';
import { isAllowedResponseUrl, postToResponseUrl, ResponseUrlRefused } from './response-url.ts';

/** Time kept back from the Lambda's deadline to post the result (3 tries, 5 s each, and waits). */
const POST_MARGIN_MS = 20_000;
const POST_ATTEMPTS = 3;
const POST_BACKOFF_MS = 1_000;

/** The manual override, set and ended here: its schedules point from the worker's own ARN. */
function manualOverride(invokedFunctionArn: string): OverrideWrites {
  return {
    set: (run, request, now) =>
      setOverride(run, { ...request, key: MANUAL_KEY }, scheduleTarget(invokedFunctionArn), now),
    release: (run, streamId, actor, now) =>
      releaseOverride(run, streamId, MANUAL_KEY, actor, scheduleTarget(invokedFunctionArn), now),
  };
}

export async function runSlackWorker(
  event: WorkerEvent,
  context: JobContext,
): Promise<JobOutcome<{ posted: boolean }>> {
  const slack = context.serviceSecret.slack;
  const command = parseCommand(event.text);
  const report = { command: command.kind, slack_user: event.user_id, slack_team: event.team_id };
  // Checked again: the event could have come from elsewhere than the command function.
  if (!slack?.team_ids.includes(event.team_id) || !isAllowedResponseUrl(event.response_url)) {
    return {
      result: { posted: false },
      report: { ...report, refused: 'workspace or response_url' },
    };
  }
  let message: SlackMessage;
  const refusal = refusalFor(command, slack, event.user_id);
  if (refusal) {
    message = refusal;
  } else {
    try {
      message = await samplingRun(
        context,
        (run) =>
          execute(command, run, {
            actor: slackActor(event),
            allPages: true,
            overrides: manualOverride(context.invokedFunctionArn),
          }),
        { reserve: POST_MARGIN_MS },
      );
    } catch (error) {
      message = failureMessage(problemOf(error).detail, event.request_id);
    }
  }
  // The command has run: from here on, a failure must not make Lambda run it again. The post is
  // tried a few times; a repeat of one Slack took but did not confirm replaces the same message.
  for (let attempt = 1; ; attempt++) {
    try {
      await postToResponseUrl(event.response_url, { ...message, replace_original: true });
      return {
        result: { posted: true },
        report: { ...report, posted: true, post_attempts: attempt },
      };
    } catch (error) {
      if (attempt >= POST_ATTEMPTS || error instanceof ResponseUrlRefused) {
        return {
          result: { posted: false },
          report: {
            ...report,
            posted: false,
            post_attempts: attempt,
            post_error: (error as Error).message,
          },
        };
      }
      await sleep(POST_BACKOFF_MS * attempt);
    }
  }
}
