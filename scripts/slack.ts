/**
 * `npm run slack -- "<command text>" [--user U…] [--team T…]`: sends a slash command to the
 * running local stack as Slack would — a form body signed with the local signing secret — then
 * prints the immediate answer and, as they arrive, what the worker posts to the command's
 * response_url (caught by the sandbox). Needs `npm start` running in this folder.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { slackSignature } from '../lib/slack/signature.ts';
import { findLocalStack, slackCatcher } from './local-stack.ts';

const USAGE =
  'Usage: npm run slack -- "<command text>" [--user <Slack user id>] [--team <team id>]';
const WAIT_FOR_WORKER_MS = 60_000;

let values: { user?: string; team?: string; help?: boolean };
let positionals: string[];
try {
  ({ values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      user: { type: 'string' },
      team: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  }));
} catch (error) {
  console.error(`${(error as Error).message}\n${USAGE}`);
  process.exit(2);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const found = findLocalStack();
if ('problem' in found) {
  console.error(found.problem);
  process.exit(1);
}
const { state } = found;

interface Message {
  response_type?: string;
  text?: string;
  replace_original?: boolean;
  blocks?: { type: string; text?: { text: string }; elements?: { text?: string }[] }[];
}

/** A message as a terminal shows it: its blocks' text. */
function render(message: Message): string {
  const blocks = message.blocks ?? [];
  const text =
    blocks.length > 0
      ? blocks
          .map(
            (block) =>
              block.text?.text ??
              block.elements?.map((element) => element.text ?? '').join(' ') ??
              '',
          )
          .join('\n')
      : (message.text ?? '');
  return `[${message.response_type ?? 'ephemeral'}${message.replace_original ? ', replaces the answer' : ''}]\n${text}`;
}

const text = positionals.join(' ');
const requestKey = randomUUID();
const responseUrl = `${slackCatcher(state.sandboxUrl)}${requestKey}`;
const body = new URLSearchParams({
  token: 'local',
  team_id: values.team ?? state.slack.team_id,
  team_domain: 'local',
  channel_id: 'C0000LOCAL',
  channel_name: 'local',
  user_id: values.user ?? state.slack.user_ids[0] ?? 'U0000LOCAL',
  user_name: 'local-user',
  command: '/eventstreams',
  text,
  api_app_id: 'A0000LOCAL',
  response_url: responseUrl,
  trigger_id: requestKey,
}).toString();
const timestamp = String(Math.floor(Date.now() / 1000));

const started = Date.now();
const answer = await fetch(`${state.apiUrl}/slack/commands`, {
  method: 'POST',
  headers: {
    'content-type': 'application/x-www-form-urlencoded',
    'x-slack-request-timestamp': timestamp,
    'x-slack-signature': slackSignature(state.slack.signing_secret, timestamp, Buffer.from(body)),
  },
  body,
}).catch((error: Error) => {
  console.error(`The local stack at ${state.apiUrl} did not answer: ${error.message}`);
  process.exit(1);
});
const elapsed = Date.now() - started;
const raw = await answer.text();
let immediate: Message | undefined;
try {
  immediate = JSON.parse(raw) as Message;
} catch {
  // Not JSON: printed as it is.
}
console.log(`HTTP ${answer.status} in ${elapsed} ms`);
console.log(immediate && answer.ok ? render(immediate) : raw);
// Slack shows only 200s to the user: anything else is a failure of the local stack.
if (!answer.ok) process.exitCode = 1;

if (answer.ok && /working on/i.test(immediate?.text ?? '')) {
  console.log('\nWaiting for the worker’s answer on the response_url…');
  const until = Date.now() + WAIT_FOR_WORKER_MS;
  let seen = 0;
  while (Date.now() < until) {
    const { responses } = (await (
      await fetch(`${state.sandboxUrl}/_sandbox/slack/responses`)
    ).json()) as { responses: { path: string; body: Message }[] };
    const ours = responses.filter((response) => response.path === requestKey);
    for (const post of ours.slice(seen)) console.log(`\n${render(post.body)}`);
    seen = ours.length;
    if (seen > 0) break;
    await sleep(250);
  }
  if (seen === 0) {
    console.error('Nothing was posted within a minute: see the worker’s log lines in npm start.');
    process.exit(1);
  }
}
