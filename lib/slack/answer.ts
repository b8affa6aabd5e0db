/**
 * How the command function answers within Slack's 3 seconds: what fits is done at once, with a
 * deadline that leaves room for the reply (and for a hand-off if it does not fit); what may take
 * longer — `plan`, `apply`, `overrides`, a list of more than one page, an ngrok call that did not
 * finish in time — and what sets or ends an override (`sample … for`, `release`: only the worker's
 * role may write them) is acknowledged at once and handed to the worker, which posts to
 * `response_url`.
 */
import { NgrokTimeoutError } from '../ngrok/errors.ts';
import { samplingRun } from '../sampling/session.ts';
import {
  alwaysWorker,
  type Command,
  changes,
  execute,
  NeedsWorker,
  parseCommand,
  refusalFor,
  slackActor,
} from './commands.ts';
import { handOff } from './handoff.ts';
import { failureMessage, type SlackMessage, workingMessage } from './messages.ts';
import type { SlackContext, SlashCommand } from './route.ts';

/**
 * Slack waits 3 s from sending. The clock starts when API Gateway got the request
 * (`requestContext.timeEpoch`), so that a cold start and the secret's first read count: the
 * ngrok work must be over 1.7 s after it, and the hand-off (at most 0.5 s) leaves the answer
 * time to reach Slack. When less than 0.3 s of that is left, the command goes to the worker at
 * once.
 */
const INLINE_UNTIL_MS = 1_700;
const MIN_INLINE_MS = 300;

/** When the request reached API Gateway; the handler's start if the event does not say. */
function arrival(started: number, timeEpoch: unknown): number {
  return typeof timeEpoch === 'number' && timeEpoch <= started && timeEpoch > started - 10_000
    ? timeEpoch
    : started;
}

async function handOffAndAck(
  payload: SlashCommand,
  command: Command,
  context: SlackContext,
): Promise<SlackMessage> {
  try {
    await handOff({
      request_id: context.record.requestId,
      text: payload.text,
      user_id: payload.user_id,
      team_id: payload.team_id,
      channel_id: payload.channel_id,
      response_url: payload.response_url,
    });
  } catch (error) {
    context.record.note = `the hand-off to the worker failed: ${(error as Error).name}`;
    return failureMessage(
      'The command could not be handed on in time: it may still run. Check before you try again',
      context.record.requestId,
    );
  }
  context.record.note = 'handed to the worker';
  return workingMessage(payload.user_id, payload.text, changes(command));
}

export async function answerSlashCommand(
  payload: SlashCommand,
  context: SlackContext,
  timeEpoch?: unknown,
): Promise<SlackMessage> {
  const until = arrival(Date.now(), timeEpoch) + INLINE_UNTIL_MS;
  const command = parseCommand(payload.text);
  const refusal = refusalFor(command, context.serviceSecret.slack, payload.user_id);
  if (refusal) {
    context.record.note = 'the user may not change streams';
    return refusal;
  }
  const inline = command.kind === 'help' || command.kind === 'invalid';
  if (alwaysWorker(command) || (!inline && until - Date.now() < MIN_INLINE_MS)) {
    return handOffAndAck(payload, command, context);
  }
  try {
    return await samplingRun(
      context,
      (run) => execute(command, run, { actor: slackActor(payload), allPages: false }),
      { until },
    );
  } catch (error) {
    if (error instanceof NeedsWorker || error instanceof NgrokTimeoutError) {
      return handOffAndAck(payload, command, context);
    }
    throw error;
  }
}
