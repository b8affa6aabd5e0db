/**
 * POST /slack/commands → 200, a Slack message: the `/eventstreams` slash command. Slack's
 * signature instead of a token (401 without it); the workspace must be allowed; changing
 * commands only for the allowed users. Answers within Slack's 3 seconds: at once what fits,
 * otherwise "working on it…" and the worker posts the result to the response_url. It only reads
 * the sampling overrides: setting and ending them (`sample … for`, `release`) is the worker's.
 */
import { answerSlashCommand } from '../lib/slack/answer.ts';
import { slackRoute } from '../lib/slack/route.ts';

export const handler = slackRoute(
  {
    method: 'POST',
    path: '/slack/commands',
    operation: 'slackCommand',
    summary: 'The /eventstreams Slack slash command (Slack calls it)',
  },
  answerSlashCommand,
);
