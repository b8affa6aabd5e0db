/**
 * `npm run invoke -- <function> [more serverless args]`: runs
 * `serverless invoke local -f <function> --path events/<function>.json` against the sandbox of a
 * running local stack, with that stack's bearer token in place of the sample's. It finds the
 * stack by the files `npm start` leaves in .local-stack/ (the one on PORT, or the only one);
 * SANDBOX_PORT, when set, names a sandbox's port instead (the sample events then carry the token
 * nes_sample-event-token: `DEV_API_TOKEN=nes_sample-event-token npm start`).
 */

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pagerDutySignature } from '../lib/incidents/pagerduty.ts';
import { slackSignature } from '../lib/slack/signature.ts';
import {
  findLocalStack,
  LOCAL_SECRET_NAME,
  localAwsEnv,
  localParams,
  portFrom,
  SAMPLE_EVENT_TOKEN,
  slackCatcher,
} from './local-stack.ts';

const [functionName, ...rest] = process.argv.slice(2);
if (!functionName || !existsSync(`events/${functionName}.json`)) {
  console.error(
    `Usage: npm run invoke -- <function>, where events/<function>.json exists (${functionName ? `no events/${functionName}.json` : 'no function named'}).`,
  );
  process.exit(2);
}
const found = findLocalStack();
// With SANDBOX_PORT, a sandbox started elsewhere; else the stack of this folder (on PORT, or
// the only one), whose problem is said when its sandbox does not answer.
const running = 'state' in found ? found.state : undefined;
const sandboxUrl = process.env.SANDBOX_PORT
  ? `http://127.0.0.1:${portFrom('SANDBOX_PORT', 4010)}`
  : (running?.sandboxUrl ?? 'http://127.0.0.1:4010');
const secrets = await fetch(`${sandboxUrl}/_sandbox/secrets`)
  .then((response) => response.json() as Promise<{ names: string[] }>)
  .catch(() => undefined);
if (!secrets?.names.includes(LOCAL_SECRET_NAME)) {
  console.error(
    `No local stack's sandbox answers on ${sandboxUrl}${process.env.SANDBOX_PORT ? ' (SANDBOX_PORT)' : running ? ` (the stack on PORT ${running.port})` : ''}.${'problem' in found && !process.env.SANDBOX_PORT ? ` ${found.problem}` : ' Start one first, in this folder: npm start'}
If it runs with another SANDBOX_PORT and was started elsewhere, set the same SANDBOX_PORT here.`,
  );
  process.exit(1);
}

// The sample event, addressed to the running API, so that links in the answer point at it.
const event = JSON.parse(readFileSync(`events/${functionName}.json`, 'utf8'));
if (running && event.headers) event.headers.host = new URL(running.apiUrl).host;
// The worker's sample event: a new command (its request id), answering to the running catcher.
if (running && typeof event.response_url === 'string' && typeof event.request_id === 'string') {
  event.request_id = `invoke-${Date.now()}`;
  event.response_url = `${slackCatcher(running.sandboxUrl)}${event.request_id}`;
}
// The running stack's bearer token, in place of the sample's: it is what that stack accepts.
if (running && typeof event.headers?.authorization === 'string') {
  // The alert webhook takes the `alerts` caller's token, and only it.
  const token = event.rawPath === '/hooks/alertmanager' ? running.alerts?.token : running.token;
  event.headers.authorization = `Bearer ${token ?? running.token}`;
}
// A PagerDuty event is signed now, with the running stack's webhook secret.
if (running?.alerts && event.headers?.['x-pagerduty-signature'] !== undefined) {
  event.headers['x-pagerduty-signature'] = pagerDutySignature(
    running.alerts.pagerduty_secret,
    Buffer.from(event.body ?? ''),
  );
}
// A Slack command is signed now, with the running stack's signing secret, as its workspace and
// first allowed user, and answers later to the running sandbox's catcher.
if (running && event.headers?.['x-slack-signature'] !== undefined) {
  const form = new URLSearchParams(event.body);
  form.set('team_id', running.slack.team_id);
  form.set('user_id', running.slack.user_ids[0] ?? 'U0000LOCAL');
  form.set('response_url', `${slackCatcher(running.sandboxUrl)}invoke-${Date.now()}`);
  event.body = form.toString();
  const timestamp = String(Math.floor(Date.now() / 1000));
  event.headers['x-slack-request-timestamp'] = timestamp;
  event.headers['x-slack-signature'] = slackSignature(
    running.slack.signing_secret,
    timestamp,
    Buffer.from(event.body),
  );
}
// One build folder per function: invokes of different functions may run side by side.
const workFolder = `.esbuild-invoke/${functionName}`;
mkdirSync(workFolder, { recursive: true });
const eventFile = `${workFolder}/event.json`;
writeFileSync(eventFile, JSON.stringify(event));

const serverlessBin = createRequire(import.meta.url).resolve('osls/bin/serverless.js');
const run = spawnSync(
  process.execPath,
  [
    serverlessBin,
    'invoke',
    'local',
    '-f',
    functionName,
    '--path',
    eventFile,
    ...localParams(sandboxUrl, '0', sandboxUrl),
    // Its own build folder: `npm start`'s serverless offline keeps loading from its own.
    '--param',
    `esbuildWorkFolder=${workFolder}`,
    ...rest,
  ],
  {
    stdio: ['inherit', 'pipe', 'inherit'],
    encoding: 'utf8',
    // IS_OFFLINE, as serverless offline sets it: links in answers use the running API's host.
    env: {
      ...process.env,
      ...localAwsEnv(
        sandboxUrl,
        running?.aws ?? { accessKeyId: 'local', secretAccessKey: 'local' },
        running?.lambdaUrl,
      ),
      IS_OFFLINE: 'true',
    },
  },
);
process.stdout.write(run.stdout ?? '');
if (/"statusCode": 401/.test(run.stdout ?? '') && event.headers?.authorization && !running) {
  console.error(
    `\nThe sample events carry the token ${SAMPLE_EVENT_TOKEN}: start the stack with\n  DEV_API_TOKEN=${SAMPLE_EVENT_TOKEN} npm start`,
  );
}
process.exit(run.status ?? 1);
