/**
 * `npm start`: the local stack. Starts the sandbox (ngrok API + Secrets Manager), stores the
 * service's secret in it, and runs `serverless offline` with the functions wired to it. Prints
 * the API's URL, a bearer token and the seeded destination ids. Ctrl-C stops everything.
 *
 * PORT (3000), SANDBOX_PORT (4010), DEV_API_TOKEN (random), SLACK_SIGNING_SECRET (random),
 * SECRET_CACHE_SECONDS (300). With NGROK_API_KEY set, the functions talk to the real ngrok API at
 * NGROK_API_URL (default https://api.ngrok.com); the sandbox then only serves the secret.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { newCallerToken, sha256Hex } from '../lib/auth/tokens.ts';
import { type Sandbox, seedSamples, startSandbox } from '../sandbox/server.ts';
import { freePort, LOCAL_SECRET_NAME, localAwsEnv, localParams, portFrom } from './local-stack.ts';

const READY_TIMEOUT_MS = 60_000;

async function waitUntilServing(url: string, child: ChildProcess): Promise<void> {
  const until = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < until) {
    if (child.exitCode !== null)
      throw new Error(`serverless offline exited with code ${child.exitCode}.`);
    try {
      await fetch(url, { signal: AbortSignal.timeout(1000) });
      return;
    } catch {
      await sleep(250);
    }
  }
  throw new Error(
    `serverless offline did not answer on ${url} within ${READY_TIMEOUT_MS / 1000} s.`,
  );
}

const port = portFrom('PORT', 3000);
const sandboxPort = portFrom('SANDBOX_PORT', 4010);
const devToken = process.env.DEV_API_TOKEN || newCallerToken();
const slackSigningSecret = process.env.SLACK_SIGNING_SECRET || randomBytes(16).toString('hex');
const realNgrokKey = process.env.NGROK_API_KEY;
const quiet = process.env.SANDBOX_QUIET !== undefined;

let sandbox: Sandbox;
try {
  sandbox = await startSandbox({
    port: sandboxPort,
    log: quiet ? undefined : (line) => console.log(`[sandbox] ${line}`),
  });
} catch (error) {
  const code = (error as NodeJS.ErrnoException).code;
  console.error(
    code === 'EADDRINUSE'
      ? `Port ${sandboxPort} is in use: set SANDBOX_PORT to a free port.`
      : `The sandbox could not start: ${(error as Error).message}`,
  );
  process.exit(1);
}

const ngrokApiUrl = realNgrokKey
  ? process.env.NGROK_API_URL || 'https://api.ngrok.com'
  : sandbox.url;
const samples = realNgrokKey ? undefined : seedSamples(sandbox.state);
const destinationIds = samples?.destinationIds ?? [];
sandbox.secrets.put(
  LOCAL_SECRET_NAME,
  JSON.stringify({
    ngrok_api_key: realNgrokKey ?? sandbox.apiKey,
    callers: [{ name: 'local-dev', token_sha256: sha256Hex(devToken), scopes: ['read', 'write'] }],
    slack: { signing_secret: slackSigningSecret, allowed_user_ids: [] },
  }),
);

const require = createRequire(import.meta.url);
const serverlessBin = require.resolve('osls/bin/serverless.js');
const lambdaPort = await freePort();
const offline = spawn(
  process.execPath,
  [
    serverlessBin,
    'offline',
    'start',
    '--host',
    '127.0.0.1',
    '--httpPort',
    String(port),
    '--lambdaPort',
    String(lambdaPort),
    '--noSponsor',
    ...localParams(ngrokApiUrl, process.env.SECRET_CACHE_SECONDS || '300'),
    // Anything after `npm start --` goes to serverless offline, e.g. --param timeout=3.
    ...process.argv.slice(2),
  ],
  {
    // serverless-offline hands AWS_* variables to the functions: the real Secrets Manager client
    // then reads the secret from the sandbox, with dummy credentials.
    env: { ...process.env, ...localAwsEnv(sandbox.url) },
    stdio: ['ignore', 'inherit', 'inherit'],
    detached: true,
  },
);

let stopping = false;
async function stop(exitCode: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    if (offline.exitCode === null && offline.pid !== undefined) {
      try {
        process.kill(-offline.pid, 'SIGTERM');
      } catch {
        // Already gone.
      }
    }
    await sandbox.close();
  }
  process.exit(exitCode);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
offline.on('exit', (code) => {
  if (!stopping) {
    console.error(`serverless offline stopped (exit code ${code}).`);
    void stop(code ?? 1);
  }
});

const apiUrl = `http://127.0.0.1:${port}`;
try {
  await waitUntilServing(`${apiUrl}/event-streams`, offline);
} catch (error) {
  console.error((error as Error).message);
  await stop(1);
}

const destination = destinationIds[0] ?? '<an ed_ id of your ngrok account>';
console.log(`
ngrok Event Streams API running at ${apiUrl}
  ngrok API:           ${realNgrokKey ? `${ngrokApiUrl} (real, NGROK_API_KEY)` : `${sandbox.url} (sandbox)`}
  bearer token:        ${devToken}
  destination ids:     ${destinationIds.join(', ') || '(none seeded: real ngrok account)'}
  sample stream:       ${samples?.eventStreamId ?? '(none seeded: real ngrok account)'}
  Slack signing secret: ${slackSigningSecret}

Try:
  export TOKEN=${devToken}
  curl -s -H "Authorization: Bearer $TOKEN" ${apiUrl}/event-streams
  curl -s -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\
    -d '{"event_type":"http_request_complete","destination_ids":["${destination}"],"sampling_rate":0.1}' \\
    ${apiUrl}/event-streams

Ctrl-C stops everything.
`);
