/**
 * `npm run invoke -- <function> [more serverless args]`: runs
 * `serverless invoke local -f <function> --path events/<function>.json` against the sandbox of a
 * running local stack (start it with `DEV_API_TOKEN=nes_sample-event-token npm start`: the
 * sample events carry that token). It finds the stack by the file `npm start` leaves
 * (.local-stack.json); SANDBOX_PORT, when set, names the sandbox's port instead.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import {
  LOCAL_SECRET_NAME,
  localAwsEnv,
  localParams,
  portFrom,
  readLocalStackState,
  SAMPLE_EVENT_TOKEN,
} from './local-stack.ts';

const [functionName, ...rest] = process.argv.slice(2);
if (!functionName || !existsSync(`events/${functionName}.json`)) {
  console.error(
    `Usage: npm run invoke -- <function>, where events/<function>.json exists (${functionName ? `no events/${functionName}.json` : 'no function named'}).`,
  );
  process.exit(2);
}
const running = readLocalStackState();
const sandboxUrl = process.env.SANDBOX_PORT
  ? `http://127.0.0.1:${portFrom('SANDBOX_PORT', 4010)}`
  : (running?.sandboxUrl ?? 'http://127.0.0.1:4010');
const secrets = await fetch(`${sandboxUrl}/_sandbox/secrets`)
  .then((response) => response.json() as Promise<{ names: string[] }>)
  .catch(() => undefined);
if (!secrets?.names.includes(LOCAL_SECRET_NAME)) {
  console.error(
    `No local stack's sandbox answers on ${sandboxUrl}${process.env.SANDBOX_PORT ? ' (SANDBOX_PORT)' : running ? ' (from .local-stack.json)' : ''}. Start one first, in this folder:
  DEV_API_TOKEN=${SAMPLE_EVENT_TOKEN} npm start
If it runs with another SANDBOX_PORT and was started elsewhere, set the same SANDBOX_PORT here.`,
  );
  process.exit(1);
}

const serverlessBin = createRequire(import.meta.url).resolve('osls/bin/serverless.js');
const { status } = spawnSync(
  process.execPath,
  [
    serverlessBin,
    'invoke',
    'local',
    '-f',
    functionName,
    '--path',
    `events/${functionName}.json`,
    ...localParams(sandboxUrl, '0'),
    // Its own build folder: `npm start`'s serverless offline keeps loading from .esbuild.
    '--param',
    'esbuildWorkFolder=.esbuild-invoke',
    ...rest,
  ],
  { stdio: 'inherit', env: { ...process.env, ...localAwsEnv(sandboxUrl) } },
);
process.exit(status ?? 1);
