/**
 * `npm start`: the local stack. Starts the sandbox (ngrok API + Secrets Manager), stores the
 * service's secret in it, and runs `serverless offline` with the functions wired to it. Prints
 * the API's URL, a bearer token and the seeded destination ids. Ctrl-C stops everything.
 *
 * PORT (3000), SANDBOX_PORT (4010), LAMBDA_PORT (a free one), DEV_API_TOKEN (random),
 * SECRET_CACHE_SECONDS (300), SAMPLING_POLICY (sampling-schedule.yml), SLACK_SIGNING_SECRET
 * (random), SLACK_TEAM_ID (T0000LOCAL), SLACK_ALLOWED_USER_IDS (U0000LOCAL). With NGROK_API_KEY set, the functions talk to the real ngrok API
 * at NGROK_API_URL (default https://api.ngrok.com); the sandbox then only serves the secret.
 * Arguments after `npm start --` go to serverless offline (`--httpPort` and `--lambdaPort`
 * there mean the same as PORT and LAMBDA_PORT). The API on PORT is the local API Gateway
 * (scripts/gateway.ts), which invokes the functions through serverless offline's Lambda port.
 *
 * However it ends (Ctrl-C, SIGTERM, SIGHUP, its parent gone, an error, even SIGKILL), it takes
 * serverless offline with it: serverless offline leads a process group of its own, which every
 * exit path here ends, and it ends itself when this process is gone (scripts/exit-with-parent.ts).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { relative } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { samplingGroupName } from '../infra/sampling.ts';
import { newCallerToken, sha256Hex } from '../lib/auth/tokens.ts';
import { loadPolicyFile, policyPath } from '../lib/sampling/load.ts';
import { type Sandbox, seedSamples, startSandbox } from '../sandbox/server.ts';
import { startGateway } from './gateway.ts';
import {
  freePort,
  isOfflineServerLine,
  isPortFree,
  LOCAL_IDEMPOTENCY_KEYS_TABLE,
  LOCAL_IDEMPOTENCY_TABLE,
  LOCAL_SECRET_NAME,
  type LocalStackState,
  localAwsEnv,
  localParams,
  localToken,
  portFrom,
  STATE_DIR,
  stateFileOf,
  stopWithParent,
  TOKEN_FILE,
  takeOption,
} from './local-stack.ts';
import { counted } from './text.ts';

const READY_TIMEOUT_MS = 60_000;

/** Copies a child's output line by line, leaving out serverless offline's own server lines. */
function passThrough(from: Readable | null, to: NodeJS.WriteStream): void {
  if (!from) return;
  const lines = createInterface({ input: from, crlfDelay: Number.POSITIVE_INFINITY });
  lines.on('line', (line) => {
    if (!isOfflineServerLine(line)) to.write(`${line}\n`);
  });
}

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

function portOption(name: string, value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    fail(`--${name} must be a port number from 1 to 65535; got '${value}'.`);
  }
  return port;
}

/** Whether something accepts connections on the port: no request, so nothing is logged. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function waitUntilListening(port: number, child: ChildProcess): Promise<void> {
  const until = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < until) {
    if (child.exitCode !== null) fail(`serverless offline exited with code ${child.exitCode}.`);
    if (await accepts(port)) return;
    await sleep(250);
  }
  fail(`serverless offline did not listen on port ${port} within ${READY_TIMEOUT_MS / 1000} s.`);
}

const passthrough = process.argv.slice(2);
const stageIndex = passthrough.findIndex((arg) => arg === '--stage' || arg === '-s');
const stage = (stageIndex >= 0 ? passthrough[stageIndex + 1] : undefined) ?? 'dev';
const httpPortArg = takeOption(passthrough, 'httpPort');
const lambdaPortArg = takeOption(passthrough, 'lambdaPort');
const port = httpPortArg ? portOption('httpPort', httpPortArg) : portFrom('PORT', 3000);
const sandboxPort = portFrom('SANDBOX_PORT', 4010);
const lambdaPort = lambdaPortArg
  ? portOption('lambdaPort', lambdaPortArg)
  : process.env.LAMBDA_PORT
    ? portFrom('LAMBDA_PORT', 0)
    : await freePort();

// Before anything is printed or started: a port in use is somebody else's server.
for (const [name, value] of [
  ['PORT', port],
  ['SANDBOX_PORT', sandboxPort],
  ['LAMBDA_PORT', lambdaPort],
] as const) {
  if (!(await isPortFree(value))) {
    fail(
      `Port ${value} is in use (${name}): stop what listens there, or set ${name} to a free port.`,
    );
  }
}

// The sampling policy the functions will bundle: an invalid one stops here, with its problems.
const policyFile = policyPath(process.env.SAMPLING_POLICY, process.cwd());
let ruleCount: number;
try {
  ruleCount = loadPolicyFile(policyFile).rules.length;
} catch (error) {
  fail((error as Error).message);
}

const { token: devToken, from: tokenFrom } = localToken();
const slack = {
  signing_secret: process.env.SLACK_SIGNING_SECRET || randomBytes(16).toString('hex'),
  team_id: process.env.SLACK_TEAM_ID || 'T0000LOCAL',
  user_ids: (process.env.SLACK_ALLOWED_USER_IDS || 'U0000LOCAL')
    .split(',')
    .map((id) => id.trim())
    .filter(Boolean),
};
// The alert webhooks' caller (scope `alerts` alone) and PagerDuty's webhook signing secret.
const alerts = {
  token: process.env.ALERTS_API_TOKEN || newCallerToken(),
  pagerduty_secret: process.env.PAGERDUTY_WEBHOOK_SECRET || randomBytes(24).toString('base64url'),
};
const realNgrokKey = process.env.NGROK_API_KEY;
const quiet = process.env.SANDBOX_QUIET !== undefined;

let sandbox: Sandbox;
try {
  sandbox = await startSandbox({
    port: sandboxPort,
    log: quiet ? undefined : (line) => console.log(`[sandbox] ${line}`),
    // Its EventBridge Scheduler fires one-time schedules into the functions, as Scheduler does
    // (asynchronously), in the service's schedule group.
    scheduler: {
      lambdaUrl: `http://127.0.0.1:${lambdaPort}`,
      groups: [samplingGroupName('ngrok-event-streams', stage)],
    },
  });
} catch (error) {
  fail(`The sandbox could not start: ${(error as Error).message}`);
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
    callers: [
      { name: 'local-dev', token_sha256: sha256Hex(devToken), scopes: ['read', 'write'] },
      { name: 'alerts', token_sha256: sha256Hex(alerts.token), scopes: ['alerts'] },
    ],
    pagerduty: { webhook_secrets: [alerts.pagerduty_secret] },
    slack: {
      signing_secret: slack.signing_secret,
      team_ids: [slack.team_id],
      allowed_user_ids: slack.user_ids,
    },
  }),
);
sandbox.dynamodb.createTable(LOCAL_IDEMPOTENCY_TABLE, ['id']);
sandbox.dynamodb.createTable(LOCAL_IDEMPOTENCY_KEYS_TABLE, ['id']);
sandbox.dynamodb.createTable(`ngrok-event-streams-${stage}-sampling-overrides`, [
  'stream_id',
  'key',
]);
const lambdaUrl = `http://127.0.0.1:${lambdaPort}`;

const offlineHttpPort = await freePort();
console.log(
  'Building every function and starting serverless offline: the first start takes about half a minute…',
);

// Its own build folder, so that `serverless package` (which empties .esbuild) or a second
// stack never takes away the bundles this one serves.
const workFolder = `.esbuild-offline/${port}`;
const require = createRequire(import.meta.url);
const serverlessBin = require.resolve('osls/bin/serverless.js');
const offline = spawn(
  process.execPath,
  [
    '--import',
    fileURLToPath(new URL('./exit-with-parent.ts', import.meta.url)),
    serverlessBin,
    'offline',
    'start',
    '--host',
    '127.0.0.1',
    // serverless offline's own HTTP server, unused (the gateway stands in for API Gateway).
    '--httpPort',
    String(offlineHttpPort),
    '--lambdaPort',
    String(lambdaPort),
    '--noSponsor',
    ...localParams(ngrokApiUrl, process.env.SECRET_CACHE_SECONDS || '300', sandbox.url),
    '--param',
    `esbuildWorkFolder=${workFolder}`,
    // Anything else after `npm start --` goes to serverless offline, e.g. --param timeout=3.
    ...passthrough,
  ],
  {
    // serverless-offline hands AWS_* variables to the functions: the real Secrets Manager client
    // then reads the secret from the sandbox, with dummy credentials.
    env: { ...process.env, ...localAwsEnv(sandbox.url, sandbox.awsCredentials, lambdaUrl) },
    // Its output goes on, the functions' JSON log lines as they are, but for what names its own
    // HTTP server: the gateway's banner is the one place with the API's URL.
    stdio: ['ignore', 'pipe', 'pipe'],
    // A process group of its own (it and the processes it starts), ended as one.
    detached: true,
  },
);

passThrough(offline.stdout, process.stdout);
passThrough(offline.stderr, process.stderr);

const offlineRunning = () => offline.exitCode === null && offline.signalCode === null;
/** Signals serverless offline's process group, while its leader runs (so the group is its). */
function signalOffline(signal: NodeJS.Signals): void {
  if (!offlineRunning() || offline.pid === undefined) return;
  try {
    process.kill(-offline.pid, signal);
  } catch {
    // Already gone.
  }
}
// Every way out, an uncaught error and process.exit included (no handler sees SIGKILL: then
// serverless offline notices by itself): nothing is left running behind.
process.on('exit', () => {
  signalOffline('SIGTERM');
  removeStateFile();
});

/** Removes this stack's state file if this process wrote it (another stack's stays). */
const stateFile = stateFileOf(port);
function removeStateFile(): void {
  try {
    if ((JSON.parse(readFileSync(stateFile, 'utf8')) as { pid?: number }).pid === process.pid) {
      rmSync(stateFile, { force: true });
    }
  } catch {
    // None, or not ours to read.
  }
}

/** Asks serverless offline to halt, waits for it (SIGKILL after 5 s). */
async function stopOffline(): Promise<void> {
  if (!offlineRunning()) return;
  const exited = new Promise((resolve) => offline.once('exit', resolve));
  signalOffline('SIGTERM');
  const late = setTimeout(() => signalOffline('SIGKILL'), 5_000);
  await exited;
  clearTimeout(late);
}

let stopping = false;
let gatewayServer: import('node:http').Server | undefined;
async function stop(exitCode: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    await Promise.all([
      stopOffline(),
      sandbox.close(),
      new Promise((resolve) => {
        if (!gatewayServer) resolve(undefined);
        else {
          gatewayServer.close(resolve);
          gatewayServer.closeAllConnections();
        }
      }),
    ]);
    removeStateFile();
    rmSync(workFolder, { recursive: true, force: true });
  }
  process.exit(exitCode);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
// The terminal closed.
process.on('SIGHUP', () => void stop(0));
stopWithParent(() => void stop(0));
offline.on('exit', (code) => {
  if (!stopping) {
    console.error(`serverless offline stopped (exit code ${code}).`);
    void stop(code ?? 1);
  }
});

await waitUntilListening(lambdaPort, offline);
const gateway = await startGateway({
  port,
  lambdaUrl,
  functionPrefix: `ngrok-event-streams-${stage}-`,
}).catch((error: Error) => fail(`The local API Gateway could not start: ${error.message}`));
gatewayServer = gateway;
const apiUrl = `http://127.0.0.1:${port}`;
const state: LocalStackState = {
  apiUrl,
  port,
  sandboxUrl: sandbox.url,
  lambdaUrl,
  pid: process.pid,
  token: devToken,
  samples: samples !== undefined,
  slack,
  aws: sandbox.awsCredentials,
  alerts,
};
mkdirSync(STATE_DIR, { recursive: true, mode: 0o700 });
writeFileSync(stateFile, `${JSON.stringify(state)}\n`, { mode: 0o600 });

const destination = destinationIds[0] ?? '<an ed_ id of your ngrok account>';
const tokenNote =
  tokenFrom === 'DEV_API_TOKEN'
    ? 'from DEV_API_TOKEN'
    : `kept in ${relative(process.cwd(), TOKEN_FILE)} across restarts; delete that file for a new one, or set DEV_API_TOKEN`;
console.log(`
ngrok Event Streams API running at ${apiUrl}
  ngrok API:        ${realNgrokKey ? `${ngrokApiUrl} (real, NGROK_API_KEY)` : `${sandbox.url} (sandbox; npm run sandbox:reset brings its samples back)`}
  bearer token:     ${devToken}
                    (${tokenNote})
  destination ids:  ${destinationIds.join(', ') || '(none seeded: real ngrok account)'}
  sample stream:    ${samples?.eventStreamId ?? '(none seeded: real ngrok account)'}
  API description:  ${apiUrl}/openapi.json
  Lambda endpoint:  ${lambdaUrl} (serverless offline: for the AWS SDK's Lambda client, not curl)
  Slack command:    POST ${apiUrl}/slack/commands, team ${slack.team_id}, users allowed to change: ${slack.user_ids.join(', ')}
  Slack signing secret: ${slack.signing_secret}
                    try: npm run slack -- help   (npm run slack -- "sample <es_id> 25%")
  sampling policy:  ${policyFile} (${counted(ruleCount, 'rule')}): GET ${apiUrl}/sampling/plan
  Alertmanager:     POST ${apiUrl}/hooks/alertmanager, bearer token ${alerts.token} (scope alerts)
  PagerDuty:        POST ${apiUrl}/hooks/pagerduty, webhook secret ${alerts.pagerduty_secret}
                    try: npm run alert -- firing --labels service=checkout,severity=critical

Try:
  export TOKEN=${devToken}
  curl -s -H "Authorization: Bearer $TOKEN" ${apiUrl}/event-streams
  curl -s -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\
    -d '{"event_type":"http_request_complete","destination_ids":["${destination}"],"sampling_rate":0.1}' \\
    ${apiUrl}/event-streams

Ctrl-C stops everything.
`);
