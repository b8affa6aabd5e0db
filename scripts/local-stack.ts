/** What `npm start` and `npm run invoke` share: how the functions are wired to the sandbox locally. */
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { newCallerToken } from '../lib/auth/tokens.ts';

/** The name of the service's secret in the local sandbox. */
export const LOCAL_SECRET_NAME = 'ngrok-event-streams-local';

/** The bearer token the sample events in events/ carry: `DEV_API_TOKEN=<this> npm start`. */
export const SAMPLE_EVENT_TOKEN = 'nes_sample-event-token';

/**
 * What the local stacks of this folder keep (git-ignored; npm runs scripts in the project's
 * root): the bearer token, kept across restarts, and one file per running stack saying where it
 * is, for `npm run slack`, `npm run invoke` and `npm run sandbox:reset` (removed when it stops).
 */
export const STATE_DIR = join(process.cwd(), '.local-stack');
export const TOKEN_FILE = join(STATE_DIR, 'token');

/** The state file of the stack whose API is on `port`. */
export function stateFileOf(port: number): string {
  return join(STATE_DIR, `stack-${port}.json`);
}

export interface LocalStackState {
  apiUrl: string;
  /** The API's port (PORT): the stack's name among others in this folder. */
  port: number;
  sandboxUrl: string;
  /** serverless offline's Lambda invoke endpoint. */
  lambdaUrl: string;
  pid: number;
  /** The bearer token the stack accepts (local only). */
  token: string;
  /** Whether the sandbox serves the sample destinations and stream (not with NGROK_API_KEY). */
  samples: boolean;
  /** The local Slack app: what `npm run slack` signs and sends as (local secrets only). */
  slack: { signing_secret: string; team_id: string; user_ids: string[] };
  /** The sandbox's AWS credentials, for `npm run invoke` (local only). */
  aws: { accessKeyId: string; secretAccessKey: string };
  /** The alert webhooks: the `alerts` caller's token and PagerDuty's signing secret (local only). */
  alerts: { token: string; pagerduty_secret: string };
}

/**
 * The bearer token of `npm start`: DEV_API_TOKEN when set; else the one kept in TOKEN_FILE (mode
 * 600), made on the first start, so that a restart keeps the token a user exported.
 */
export function localToken(): { token: string; from: 'DEV_API_TOKEN' | 'file' | 'new' } {
  const fromEnv = process.env.DEV_API_TOKEN;
  if (fromEnv) return { token: fromEnv, from: 'DEV_API_TOKEN' };
  if (existsSync(TOKEN_FILE)) {
    const kept = readFileSync(TOKEN_FILE, 'utf8').trim();
    if (kept !== '') {
      chmodSync(TOKEN_FILE, 0o600);
      return { token: kept, from: 'file' };
    }
  }
  const token = newCallerToken();
  mkdirSync(STATE_DIR, { recursive: true, mode: 0o700 });
  writeFileSync(TOKEN_FILE, `${token}\n`, { mode: 0o600 });
  return { token, from: 'new' };
}

/** Whether a process with this pid runs. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The stacks running in this folder, by their state files (those of stopped ones ignored). */
export function runningStacks(): LocalStackState[] {
  if (!existsSync(STATE_DIR)) return [];
  return readdirSync(STATE_DIR)
    .filter((name) => /^stack-\d+\.json$/.test(name))
    .flatMap((name) => {
      try {
        const state = JSON.parse(readFileSync(join(STATE_DIR, name), 'utf8')) as LocalStackState;
        return alive(state.pid) ? [state] : [];
      } catch {
        return [];
      }
    })
    .sort((a, b) => a.port - b.port);
}

/**
 * The stack a command talks to: the one on PORT when it is set, else the only one running.
 * Otherwise, what to tell the user.
 */
export function findLocalStack(): { state: LocalStackState } | { problem: string } {
  const stacks = runningStacks();
  const wanted = process.env.PORT;
  const ports = stacks.map((stack) => stack.port).join(', ');
  if (wanted) {
    const state = stacks.find((stack) => String(stack.port) === wanted);
    if (state) return { state };
    return {
      problem: `No local stack runs in this folder on PORT=${wanted}${stacks.length > 0 ? ` (running: PORT ${ports})` : ''}: start one with \`PORT=${wanted} npm start\`.`,
    };
  }
  const [only] = stacks;
  if (stacks.length === 1 && only) return { state: only };
  if (stacks.length === 0) {
    return { problem: 'No local stack is running in this folder: start one with `npm start`.' };
  }
  return {
    problem: `Local stacks run in this folder on PORT ${ports}: set PORT to the one to use, e.g. \`PORT=${stacks[0]?.port} npm run …\`.`,
  };
}

/** The Slack worker's idempotency table, as serverless.yml names it for the stage `dev`. */
export const LOCAL_IDEMPOTENCY_TABLE = 'ngrok-event-streams-dev-slack-idempotency';
/** POST /event-streams's Idempotency-Keys, as serverless.yml names the table for `dev`. */
export const LOCAL_IDEMPOTENCY_KEYS_TABLE = 'ngrok-event-streams-dev-idempotency-keys';

/** Where the local stack catches what the functions post to Slack response_urls. */
export function slackCatcher(sandboxUrl: string): string {
  return `${sandboxUrl}/_sandbox/slack/response/`;
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
    AWS_ENDPOINT_URL_SCHEDULER: sandboxUrl,
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

/**
 * serverless offline's lines that name its own servers (a box of its routes, "Server ready:
 * http://127.0.0.1:<port>", its Lambda endpoint): the local API Gateway stands in for the first,
 * and a newcomer calling one of those URLs would bypass it. `npm start` leaves them out of its
 * output; its banner names the Lambda endpoint, for what it is.
 */
export function isOfflineServerLine(line: string): boolean {
  return (
    /^\s*[┌│└]/.test(line) ||
    /^\s*Server ready: /.test(line) ||
    /^\s*Offline \[http for lambda\] listening on /.test(line)
  );
}
