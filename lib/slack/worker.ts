/**
 * The worker: runs a command that the command function handed over (every page, its own
 * deadline), and posts the result to the command's response_url, replacing the "working on it…"
 * message — once: Powertools Idempotency (./idempotency.ts) keeps a second delivery of the same
 * event from running or posting again. A failure of ngrok is posted as a message; a failure to
 * post fails the invocation, so that Lambda retries it.
 */
import { callNgrok } from '../call-ngrok.ts';
import { problemOf } from '../http/problem.ts';
import type { JobContext, JobOutcome } from '../jobs/job.ts';
import { bundledPolicy } from '../sampling/bundled.ts';
import { Pacer, requestsPerMinute } from '../sampling/pace.ts';
import { CHANGING, parseCommand } from './command.ts';
import { execute } from './execute.ts';
import type { WorkerEvent } from './handoff.ts';
import { failureMessage, refusalMessage, type SlackMessage } from './messages.ts';
import { isAllowedResponseUrl, postToResponseUrl } from './response-url.ts';

/** Time kept back from the Lambda's deadline to post the result. */
const POST_MARGIN_MS = 6_000;

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
  if (CHANGING.has(command.kind) && !slack.allowed_user_ids.includes(event.user_id)) {
    message = refusalMessage(
      `Only the Slack users this service allows may use \`${command.kind}\`.`,
    );
  } else {
    try {
      message = await callNgrok(context, (ngrok, call) => {
        const deadline = (call.deadline ?? Date.now()) - POST_MARGIN_MS;
        return execute(command, {
          ngrok,
          call: { ...call, deadline },
          pacer: new Pacer(requestsPerMinute()),
          deadline,
          policy: bundledPolicy(),
          actor: { kind: 'slack', name: event.user_id, team: event.team_id },
          allPages: true,
        });
      });
    } catch (error) {
      message = failureMessage(problemOf(error).detail, event.request_id);
    }
  }
  await postToResponseUrl(event.response_url, { ...message, replace_original: true });
  return { result: { posted: true }, report: { ...report, posted: true } };
}
