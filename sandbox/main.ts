/**
 * `npm run sandbox`: the ngrok API sandbox and its AWS stand-ins (Secrets Manager, DynamoDB,
 * Lambda's Invoke, EventBridge Scheduler: due one-time schedules are recorded as fired, not
 * invoked, since no Lambda endpoint runs beside it) on their own. SANDBOX_PORT (default 4010), SANDBOX_API_KEY (default: random,
 * printed), SANDBOX_AWS_ACCESS_KEY_ID and SANDBOX_AWS_SECRET_ACCESS_KEY (the only AWS
 * credentials the stand-ins accept; default: a random pair, printed), SANDBOX_RATE_LIMIT=off to
 * turn the 120 requests / 60 s limit off.
 */
import { AWS_ENDPOINT_VARIABLES, seedSamples, startSandbox } from './server.ts';
import type { AwsCredentials } from './sigv4.ts';

/** The region the printed environment names: the stand-ins answer in any. */
const AWS_REGION = 'us-east-1';

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

const port = Number(process.env.SANDBOX_PORT ?? 4010);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  fail(`SANDBOX_PORT must be a port number; got '${process.env.SANDBOX_PORT}'.`);
}
const apiKey = process.env.SANDBOX_API_KEY;
const verbose = process.env.SANDBOX_QUIET === undefined;

/** The credentials SANDBOX_AWS_* choose, or undefined for a random pair. */
function chosenAwsCredentials(): AwsCredentials | undefined {
  const accessKeyId = process.env.SANDBOX_AWS_ACCESS_KEY_ID || undefined;
  const secretAccessKey = process.env.SANDBOX_AWS_SECRET_ACCESS_KEY || undefined;
  if (accessKeyId === undefined && secretAccessKey === undefined) return undefined;
  if (accessKeyId === undefined || secretAccessKey === undefined) {
    fail(
      'Set both SANDBOX_AWS_ACCESS_KEY_ID and SANDBOX_AWS_SECRET_ACCESS_KEY, or neither (then the sandbox makes a random pair and prints it).',
    );
  }
  // SigV4 carries the key id in `Credential=<id>/<date>/<region>/<service>/aws4_request`.
  if (/[\s/,=]/.test(accessKeyId)) {
    fail('SANDBOX_AWS_ACCESS_KEY_ID cannot hold whitespace, "/", "," or "=" (SigV4 carries it).');
  }
  return { accessKeyId, secretAccessKey };
}

/** A value as one shell word: bare when safe, else single-quoted. */
function shellWord(value: string): string {
  return /^[A-Za-z0-9_.:/@%+=,-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}

const awsCredentials = chosenAwsCredentials();
const sandbox = await startSandbox({
  port,
  ...(apiKey ? { apiKeys: [apiKey] } : {}),
  ...(awsCredentials ? { awsCredentials } : {}),
  ...(process.env.SANDBOX_RATE_LIMIT === 'off' ? { rateLimit: false as const } : {}),
  log: verbose ? (line) => console.log(`[sandbox] ${line}`) : undefined,
}).catch((error: NodeJS.ErrnoException) => {
  console.error(
    error.code === 'EADDRINUSE'
      ? `Port ${port} is in use: set SANDBOX_PORT to a free port.`
      : `The sandbox could not start: ${error.message}`,
  );
  process.exit(1);
});

const { destinationIds, eventStreamId } = seedSamples(sandbox.state);

const awsEnvironment: [string, string][] = [
  ['AWS_ACCESS_KEY_ID', sandbox.awsCredentials.accessKeyId],
  ['AWS_SECRET_ACCESS_KEY', sandbox.awsCredentials.secretAccessKey],
  ['AWS_REGION', AWS_REGION],
  // The AWS CLI before 2.13 reads only this one.
  ['AWS_DEFAULT_REGION', AWS_REGION],
  ...AWS_ENDPOINT_VARIABLES.map((name): [string, string] => [name, sandbox.url]),
];

console.log(`ngrok API sandbox listening on ${sandbox.url}
  API key:          ${sandbox.apiKey}
  destinations:     ${destinationIds.join(', ')}
  sample stream:    ${eventStreamId}
  control surface:  ${sandbox.url}/_sandbox/
Try: curl -H "Authorization: Bearer ${sandbox.apiKey}" -H "Ngrok-Version: 2" ${sandbox.url}/event_streams
Its AWS stand-ins (Secrets Manager, DynamoDB, Lambda Invoke, EventBridge Scheduler) answer only
requests signed with these credentials. For the AWS SDKs (and the AWS CLI from 2.13), paste into a
shell:
${awsEnvironment.map(([name, value]) => `  export ${name}=${shellWord(value)}`).join('\n')}
Ctrl-C stops it.`);

let stopping = false;
function stop() {
  if (stopping) return;
  stopping = true;
  sandbox.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, stop);
// Also when whatever started it goes away without a signal reaching it.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) stop();
}, 1000).unref();
