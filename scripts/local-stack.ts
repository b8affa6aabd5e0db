/** What `npm start` and `npm run invoke` share: how the functions are wired to the sandbox locally. */
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** The name of the service's secret in the local sandbox. */
export const LOCAL_SECRET_NAME = 'ngrok-event-streams-local';

/** The bearer token the sample events in events/ carry: `DEV_API_TOKEN=<this> npm start`. */
export const SAMPLE_EVENT_TOKEN = 'nes_sample-event-token';

/**
 * Where a running `npm start` says where it is, for `npm run invoke` (removed when it stops).
 * npm runs scripts in the project's root.
 */
export const STATE_FILE = join(process.cwd(), '.local-stack.json');

export interface LocalStackState {
  apiUrl: string;
  sandboxUrl: string;
  /** serverless offline's Lambda invoke endpoint. */
  lambdaUrl: string;
  pid: number;
  /** The local Slack app: what `npm run slack` signs and sends as (local secrets only). */
  slack: { signing_secret: string; team_id: string; user_ids: string[] };
  /** The sandbox's AWS credentials, for `npm run invoke` (local only). */
  aws: { accessKeyId: string; secretAccessKey: string };
}

/** The Slack worker's idempotency table, as serverless.yml names it for the stage `dev`. */
export const LOCAL_IDEMPOTENCY_TABLE = 'ngrok-event-streams-dev-slack-idempotency';
/** POST /event-streams's Idempotency-Keys, as serverless.yml names the table for `dev`. */
export const LOCAL_IDEMPOTENCY_KEYS_TABLE = 'ngrok-event-streams-dev-idempotency-keys';

/** Where the local stack catches what the functions post to Slack response_urls. */
export function slackCatcher(sandboxUrl: string): string {
  return `${sandboxUrl}/_sandbox/slack/response/`;
}

/** The running local stack's state, if its process is still alive. */
export function readLocalStackState(): LocalStackState | undefined {
  if (!existsSync(STATE_FILE)) return undefined;
  try {
    const state = JSON.parse(readFileSync(STATE_FILE, 'utf8')) as LocalStackState;
    process.kill(state.pid, 0);
    return state;
  } catch {
    return undefined;
  }
}

/**
 * The environment that points the real AWS SDK at the sandbox's Secrets Manager, with dummy
 * credentials (serverless-offline hands AWS_* variables to the functions).
 */
export function localAwsEnv(
  sandboxUrl: string,
  credentials: { accessKeyId: string; secretAccessKey: string },
  lambdaUrl?: string,
): NodeJS.ProcessEnv {
  return {
    AWS_ENDPOINT_URL_SECRETS_MANAGER: sandboxUrl,
    AWS_ENDPOINT_URL_DYNAMODB: sandboxUrl,
    ...(lambdaUrl ? { AWS_ENDPOINT_URL_LAMBDA: lambdaUrl } : {}),
    // The sandbox's own credentials: it answers only requests signed with them.
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_SESSION_TOKEN: '',
    AWS_PROFILE: '',
    AWS_REGION: 'us-east-1',
    // What Lambda sets: the functions (Powertools) tell a cold start by it.
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
  };
}

/**
 * Calls `stop` when the process that started this one goes away without a signal reaching us
 * (a process manager that signals only `npm`): nothing is left running behind it.
 */
export function stopWithParent(stop: () => void): void {
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) stop();
  }, 1000).unref();
}

/**
 * The `--param` arguments that point serverless.yml at the local secret and ngrok API, and at
 * the sampling policy SAMPLING_POLICY names (default: sampling-schedule.yml).
 */
export function localParams(
  ngrokApiUrl: string,
  secretCacheSeconds: string,
  sandboxUrl: string,
): string[] {
  return [
    '--param',
    `slackResponseUrlPrefixes=${slackCatcher(sandboxUrl)}`,
    '--param',
    `secretName=${LOCAL_SECRET_NAME}`,
    '--param',
    `ngrokApiUrl=${ngrokApiUrl}`,
    '--param',
    `secretCacheSeconds=${secretCacheSeconds}`,
    ...(process.env.SAMPLING_POLICY
      ? ['--param', `samplingPolicy=${process.env.SAMPLING_POLICY}`]
      : []),
  ];
}

export function portFrom(name: string, fallback: number): number {
  const raw = process.env[name];
  const port = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    console.error(`${name} must be a port number from 1 to 65535; got '${raw}'.`);
    process.exit(2);
  }
  return port;
}

/** Whether nothing listens on this port of 127.0.0.1 now. */
export async function isPortFree(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A port nobody listens on now (the OS picks it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Takes `--name value` or `--name=value` out of `args`: `npm start -- --lambdaPort 4000` then
 * means the same as LAMBDA_PORT=4000, instead of a second, conflicting option.
 */
export function takeOption(args: string[], name: string): string | undefined {
  let value: string | undefined;
  for (let index = 0; index < args.length; ) {
    const arg = args[index] ?? '';
    if (arg === `--${name}`) {
      value = args[index + 1];
      args.splice(index, 2);
    } else if (arg.startsWith(`--${name}=`)) {
      value = arg.slice(name.length + 3);
      args.splice(index, 1);
    } else {
      index++;
    }
  }
  return value;
}
