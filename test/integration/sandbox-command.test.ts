/**
 * `npm run sandbox` (node sandbox/main.ts) on its own, as a user starts it: its banner says how to
 * reach every AWS stand-in, with the credentials they answer to, as lines to paste into a shell;
 * the real AWS SDK clients, configured by nothing but those lines, are answered.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { ListSchedulesCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { freePort } from '../../scripts/local-stack.ts';
import { control } from '../helpers/sandbox.ts';

const ROOT = join(__dirname, '..', '..');
const READY = 'Ctrl-C stops it.';
const CHOSEN_ENV = ['SANDBOX_AWS_ACCESS_KEY_ID', 'SANDBOX_AWS_SECRET_ACCESS_KEY'] as const;

interface SandboxCommand {
  url: string;
  banner: string;
  /** What the banner's `export` lines set, read back from a shell that ran them. */
  exported: Record<string, string>;
}

const children: ChildProcess[] = [];

/** SIGTERM, then SIGKILL if it has not exited within 5 s: nothing is left running. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  const waiting = new AbortController();
  child.kill('SIGTERM');
  const stopped = await Promise.race([
    exited.then(() => true),
    sleep(5000, false, { signal: waiting.signal }).catch(() => true),
  ]);
  waiting.abort();
  if (!stopped) {
    child.kill('SIGKILL');
    await exited;
  }
}

afterAll(async () => {
  await Promise.all(children.map(stop));
});

/** Starts `node sandbox/main.ts` with `env` added; resolves when it exits or is ready. */
function spawnSandbox(env: Record<string, string>): {
  child: ChildProcess;
  ready: Promise<string>;
} {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, SANDBOX_QUIET: '1', ...env };
  for (const name of CHOSEN_ENV) if (!(name in env)) delete childEnv[name];
  const child = spawn(process.execPath, [join(ROOT, 'sandbox', 'main.ts')], {
    cwd: ROOT,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const ready = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop(child);
      reject(new Error(`npm run sandbox was not ready in 15 s:\n${output}`));
    }, 15_000);
    child.stdout?.on('data', () => {
      if (output.includes(READY)) {
        clearTimeout(timer);
        resolve(output);
      }
    });
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(output);
    });
  });
  return { child, ready };
}

/** Runs the banner's `export` lines in bash, as a user pasting them would, and reads them back. */
function exportsThroughShell(banner: string): Record<string, string> {
  const lines = banner
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith('export '));
  const shell = spawnSync('bash', ['-c', `${lines.join('\n')}\nenv -0`], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH },
  });
  const exported: Record<string, string> = {};
  for (const entry of shell.stdout.split('\0')) {
    const [name = '', ...value] = entry.split('=');
    if (name.startsWith('AWS_')) exported[name] = value.join('=');
  }
  return exported;
}

async function startSandboxCommand(env: Record<string, string> = {}): Promise<SandboxCommand> {
  const port = await freePort();
  const { child, ready } = spawnSandbox({ SANDBOX_PORT: String(port), ...env });
  const banner = await ready;
  if (child.exitCode !== null) throw new Error(`npm run sandbox exited:\n${banner}`);
  return { url: `http://127.0.0.1:${port}`, banner, exported: exportsThroughShell(banner) };
}

/** Runs `act` with exactly the AWS_* variables `exported` gives (as in the pasting shell). */
async function withAwsEnv<T>(exported: Record<string, string>, act: () => Promise<T>): Promise<T> {
  const saved = { ...process.env };
  for (const name of Object.keys(process.env)) {
    if (name.startsWith('AWS_')) delete process.env[name];
  }
  Object.assign(process.env, exported);
  try {
    return await act();
  } finally {
    for (const name of Object.keys(process.env)) {
      if (!(name in saved)) delete process.env[name];
    }
    Object.assign(process.env, saved);
  }
}

describe('npm run sandbox', () => {
  it('prints its AWS credentials, region and every AWS endpoint as shell exports that the real SDK clients work with', async () => {
    const sandbox = await startSandboxCommand();
    await control(sandbox.url, 'PUT', '/secrets/demo', { secret_string: '{"hello":"world"}' });

    const secret = await withAwsEnv(sandbox.exported, () =>
      new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: 'demo' })),
    );
    const missingSecret = await withAwsEnv(sandbox.exported, () =>
      new SecretsManagerClient({})
        .send(new GetSecretValueCommand({ SecretId: 'no-such-secret' }))
        .catch((error: unknown) => error),
    );
    const missingTable = await withAwsEnv(sandbox.exported, () =>
      new DynamoDBClient({})
        .send(new GetItemCommand({ TableName: 'no-such-table', Key: { id: { S: 'a' } } }))
        .catch((error: unknown) => error),
    );
    const invoked = await withAwsEnv(sandbox.exported, () =>
      new LambdaClient({}).send(
        new InvokeCommand({ FunctionName: 'demo', InvocationType: 'Event', Payload: '{}' }),
      ),
    );

    const schedules = await withAwsEnv(sandbox.exported, () =>
      new SchedulerClient({}).send(new ListSchedulesCommand({})),
    );

    expect(Object.keys(sandbox.exported).sort()).toEqual(
      [
        'AWS_ACCESS_KEY_ID',
        'AWS_DEFAULT_REGION',
        'AWS_ENDPOINT_URL_DYNAMODB',
        'AWS_ENDPOINT_URL_LAMBDA',
        'AWS_ENDPOINT_URL_SCHEDULER',
        'AWS_ENDPOINT_URL_SECRETS_MANAGER',
        'AWS_REGION',
        'AWS_SECRET_ACCESS_KEY',
      ].sort(),
    );
    expect(sandbox.exported.AWS_ENDPOINT_URL_SECRETS_MANAGER).toBe(sandbox.url);
    expect(secret.SecretString).toBe('{"hello":"world"}');
    expect(missingSecret).toBeInstanceOf(ResourceNotFoundException);
    expect(missingTable).toMatchObject({
      name: 'ResourceNotFoundException',
      message: 'Requested resource not found',
    });
    expect(invoked.StatusCode).toBe(202);
    expect(schedules.Schedules).toEqual([]);
  });

  it('uses the credentials chosen with SANDBOX_AWS_ACCESS_KEY_ID and SANDBOX_AWS_SECRET_ACCESS_KEY, and no others', async () => {
    const chosen = {
      SANDBOX_AWS_ACCESS_KEY_ID: 'AKIACHOSENBYTHEUSER1',
      // A secret access key as AWS makes them: with '/' and '+'.
      SANDBOX_AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCY+EXAMPLEKEY',
    };
    const sandbox = await startSandboxCommand(chosen);
    await control(sandbox.url, 'PUT', '/secrets/demo', { secret_string: 'chosen' });

    const secret = await withAwsEnv(sandbox.exported, () =>
      new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: 'demo' })),
    );
    const otherCredentials = await withAwsEnv(
      { ...sandbox.exported, AWS_ACCESS_KEY_ID: 'AKIASOMEONEELSE00000' },
      () =>
        new SecretsManagerClient({})
          .send(new GetSecretValueCommand({ SecretId: 'demo' }))
          .catch((error: unknown) => error),
    );

    expect(sandbox.exported.AWS_ACCESS_KEY_ID).toBe(chosen.SANDBOX_AWS_ACCESS_KEY_ID);
    expect(sandbox.exported.AWS_SECRET_ACCESS_KEY).toBe(chosen.SANDBOX_AWS_SECRET_ACCESS_KEY);
    expect(secret.SecretString).toBe('chosen');
    expect(otherCredentials).toMatchObject({ name: 'UnrecognizedClientException' });
  });

  it('refuses to start with only one of the two credential variables, saying why', async () => {
    const { child, ready } = spawnSandbox({
      SANDBOX_PORT: String(await freePort()),
      SANDBOX_AWS_ACCESS_KEY_ID: 'AKIAHALFOFAPAIR00000',
    });

    const output = await ready;

    expect(child.exitCode).toBe(2);
    expect(output).toContain(
      'Set both SANDBOX_AWS_ACCESS_KEY_ID and SANDBOX_AWS_SECRET_ACCESS_KEY, or neither',
    );
  });
});
