/**
 * `npm run check:aws-cli`: the real AWS CLI v2 against the sandbox's AWS stand-ins — DynamoDB
 * put-item, update-item, get-item and delete-item, a reserved word refused as DynamoDB refuses
 * it, Secrets Manager's get-secret-value, found and not found, and EventBridge Scheduler's
 * create-schedule, get-schedule and delete-schedule, with its ConflictException,
 * ValidationException and ResourceNotFoundException. The CLI is another client
 * than the JavaScript SDK (botocore: its own signing, serialisation and parameter checks), so a
 * stand-in that only the SDK tests could hide what a user of the CLI would meet.
 *
 * The CLI runs isolated from the user's AWS setup: no config or credentials file, no profile, a
 * temporary HOME, only the sandbox's credentials and `--endpoint-url`.
 *
 * Exits 0 when every check passes, 1 when one fails. With no AWS CLI v2 installed it says so, and
 * how to install it, and exits 0 — or 1 with `--require` (or AWS_CLI_CHECK=require).
 * AWS_CLI=<path> picks the binary; otherwise the first `aws` on PATH that is version 2.
 */
import { type ChildProcess, execFile } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { devNull, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { type Sandbox, startSandbox } from '../sandbox/server.ts';

const TABLE = 'aws-cli-check';
const SECRET = 'aws-cli-check-secret';
const SECRET_VALUE = '{"checked_by":"aws-cli"}';
const CALL_TIMEOUT_MS = 60_000;
const INSTALL_HINT =
  'Install it: `apt-get install awscli` (Debian 12 packages v2), or see https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Children still running, and the CLI's temporary HOME: ended and removed if this is stopped. */
const running = new Set<ChildProcess>();
let temporaryHome: string | undefined;

function run(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      file,
      args,
      { env, timeout: CALL_TIMEOUT_MS, killSignal: 'SIGKILL', encoding: 'utf8' },
      (error, stdout, stderr) => {
        running.delete(child);
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr: stderr || (error && code === -1 ? error.message : '') });
      },
    );
    running.add(child);
  });
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The AWS CLI v2 to use, and the other `aws` commands seen on the way (a v1, a broken shim). */
async function findAwsCliV2(): Promise<{ path?: string; version?: string; seen: string[] }> {
  const candidates = process.env.AWS_CLI
    ? [process.env.AWS_CLI]
    : (process.env.PATH ?? '')
        .split(delimiter)
        .filter(Boolean)
        .map((dir) => join(dir, 'aws'));
  const seen: string[] = [];
  for (const path of [...new Set(candidates)]) {
    if (!isExecutable(path)) continue;
    const { code, stdout, stderr } = await run(path, ['--version'], process.env);
    const version = `${stdout}${stderr}`.trim().split('\n')[0] ?? '';
    if (code === 0 && version.startsWith('aws-cli/2.')) return { path, version, seen };
    seen.push(`${path}: ${code === 0 ? version : `exits ${code}`}`);
  }
  return { seen };
}

interface Check {
  name: string;
  args: string[];
  /** Why the answer is wrong, or undefined when it is right. */
  verify: (answer: Run) => string | undefined;
}

const json = (text: string): Record<string, unknown> => JSON.parse(text || '{}');
const succeeded = (answer: Run) =>
  answer.code === 0 ? undefined : `exit ${answer.code}: ${answer.stderr.trim()}`;
const failedWith = (answer: Run, code: number, ...texts: string[]) =>
  answer.code === code && texts.every((text) => answer.stderr.includes(text))
    ? undefined
    : `expected exit ${code} with ${texts.map((text) => `"${text}"`).join(' and ')}; got exit ${answer.code}: ${answer.stderr.trim()}`;

const key = JSON.stringify({ id: { S: 'checked' } });

/** A one-time schedule as the service makes them, in the group `npm start` creates. */
const SCHEDULE = 'aws-cli-check-schedule';
const SCHEDULE_GROUP = 'aws-cli-check-group';
const SCHEDULE_INPUT = '{"checked_by":"aws-cli"}';
const scheduleArgs = (name: string, expression: string) => [
  'scheduler',
  'create-schedule',
  '--name',
  name,
  '--group-name',
  SCHEDULE_GROUP,
  '--schedule-expression',
  expression,
  '--schedule-expression-timezone',
  'Europe/Berlin',
  '--flexible-time-window',
  'Mode=OFF',
  '--target',
  JSON.stringify({
    Arn: 'arn:aws:lambda:us-east-1:123456789012:function:aws-cli-check',
    RoleArn: 'arn:aws:iam::123456789012:role/aws-cli-check',
    Input: SCHEDULE_INPUT,
    RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 },
  }),
];
const scheduleRef = ['--name', SCHEDULE, '--group-name', SCHEDULE_GROUP];

/** The checks, in groups: a group runs after the one before, its checks at once. */
const CHECKS: Check[][] = [
  [
    {
      name: 'dynamodb put-item',
      args: [
        'dynamodb',
        'put-item',
        '--table-name',
        TABLE,
        '--item',
        JSON.stringify({ id: { S: 'checked' }, step: { N: '1' } }),
      ],
      verify: succeeded,
    },
    {
      name: 'scheduler create-schedule (a one-time at() in Europe/Berlin, in a group)',
      args: scheduleArgs(SCHEDULE, 'at(2030-06-01T12:00:00)'),
      verify: (answer) =>
        succeeded(answer) ??
        (json(answer.stdout).ScheduleArn ===
        `arn:aws:scheduler:us-east-1:000000000000:schedule/${SCHEDULE_GROUP}/${SCHEDULE}`
          ? undefined
          : `unexpected answer: ${answer.stdout}`),
    },
  ],
  [
    {
      name: 'dynamodb update-item (a reserved word through --expression-attribute-names)',
      args: [
        'dynamodb',
        'update-item',
        '--table-name',
        TABLE,
        '--key',
        key,
        '--update-expression',
        'SET #status = :done, step = :two',
        '--expression-attribute-names',
        JSON.stringify({ '#status': 'status' }),
        '--expression-attribute-values',
        JSON.stringify({ ':done': { S: 'done' }, ':two': { N: '2' } }),
        '--return-values',
        'ALL_NEW',
      ],
      verify: (answer) =>
        succeeded(answer) ??
        (JSON.stringify(json(answer.stdout).Attributes) ===
        JSON.stringify({ id: { S: 'checked' }, step: { N: '2' }, status: { S: 'done' } })
          ? undefined
          : `unexpected answer: ${answer.stdout}`),
    },
    {
      name: 'dynamodb update-item refuses a reserved word (SET status = :v)',
      args: [
        'dynamodb',
        'update-item',
        '--table-name',
        TABLE,
        '--key',
        key,
        '--update-expression',
        'SET status = :v',
        '--expression-attribute-values',
        JSON.stringify({ ':v': { S: 'x' } }),
      ],
      verify: (answer) =>
        failedWith(
          answer,
          254,
          '(ValidationException) when calling the UpdateItem operation',
          ': Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: status',
        ),
    },
    {
      name: 'scheduler get-schedule',
      args: ['scheduler', 'get-schedule', ...scheduleRef],
      verify: (answer) => {
        const schedule = json(answer.stdout);
        const target = (schedule.Target ?? {}) as Record<string, unknown>;
        return (
          succeeded(answer) ??
          (schedule.ScheduleExpression === 'at(2030-06-01T12:00:00)' &&
          schedule.ScheduleExpressionTimezone === 'Europe/Berlin' &&
          schedule.State === 'ENABLED' &&
          target.Input === SCHEDULE_INPUT
            ? undefined
            : `unexpected answer: ${answer.stdout}`)
        );
      },
    },
    {
      name: 'scheduler create-schedule of a name the group holds (ConflictException)',
      args: scheduleArgs(SCHEDULE, 'at(2030-07-01T12:00:00)'),
      verify: (answer) =>
        failedWith(
          answer,
          254,
          '(ConflictException) when calling the CreateSchedule operation',
          `Schedule ${SCHEDULE} already exists.`,
        ),
    },
    {
      name: 'scheduler create-schedule with an at() on a day that does not exist (ValidationException)',
      args: scheduleArgs('aws-cli-check-invalid', 'at(2030-02-30T12:00:00)'),
      verify: (answer) =>
        failedWith(
          answer,
          254,
          '(ValidationException) when calling the CreateSchedule operation',
          'Invalid Schedule Expression at(2030-02-30T12:00:00)',
        ),
    },
    {
      name: 'secretsmanager get-secret-value',
      args: ['secretsmanager', 'get-secret-value', '--secret-id', SECRET],
      verify: (answer) =>
        succeeded(answer) ??
        (json(answer.stdout).SecretString === SECRET_VALUE
          ? undefined
          : `unexpected answer: ${answer.stdout}`),
    },
    {
      name: 'secretsmanager get-secret-value of an unknown secret',
      args: ['secretsmanager', 'get-secret-value', '--secret-id', 'no-such-secret'],
      verify: (answer) =>
        failedWith(answer, 254, '(ResourceNotFoundException) when calling the GetSecretValue'),
    },
  ],
  [
    {
      name: 'dynamodb get-item',
      args: ['dynamodb', 'get-item', '--table-name', TABLE, '--key', key],
      verify: (answer) =>
        succeeded(answer) ??
        ((json(answer.stdout).Item as Record<string, unknown> | undefined)?.status === undefined
          ? `unexpected answer: ${answer.stdout}`
          : undefined),
    },
  ],
  [
    {
      name: 'dynamodb delete-item (ALL_OLD)',
      args: [
        'dynamodb',
        'delete-item',
        '--table-name',
        TABLE,
        '--key',
        key,
        '--return-values',
        'ALL_OLD',
      ],
      verify: (answer) =>
        succeeded(answer) ??
        (json(answer.stdout).Attributes === undefined
          ? `unexpected answer: ${answer.stdout}`
          : undefined),
    },
    {
      name: 'scheduler delete-schedule',
      args: ['scheduler', 'delete-schedule', ...scheduleRef],
      verify: succeeded,
    },
  ],
  [
    {
      name: 'dynamodb get-item after delete-item (nothing)',
      args: ['dynamodb', 'get-item', '--table-name', TABLE, '--key', key],
      verify: (answer) =>
        succeeded(answer) ?? (answer.stdout.trim() === '' ? undefined : `found: ${answer.stdout}`),
    },
    {
      name: 'scheduler get-schedule after delete-schedule (ResourceNotFoundException)',
      args: ['scheduler', 'get-schedule', ...scheduleRef],
      verify: (answer) =>
        failedWith(
          answer,
          254,
          '(ResourceNotFoundException) when calling the GetSchedule operation',
          `Schedule ${SCHEDULE} does not exist.`,
        ),
    },
  ],
];

/** Only what the check gives the CLI: nothing of the user's AWS setup is read. */
function isolatedEnv(sandbox: Sandbox, home: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: home,
    AWS_CONFIG_FILE: devNull,
    AWS_SHARED_CREDENTIALS_FILE: devNull,
    AWS_ACCESS_KEY_ID: sandbox.awsCredentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: sandbox.awsCredentials.secretAccessKey,
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_REGION: 'us-east-1',
    AWS_PAGER: '',
    AWS_CLI_AUTO_PROMPT: 'off',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_MAX_ATTEMPTS: '1',
  };
}

async function main(): Promise<number> {
  const required =
    process.argv.includes('--require') || process.env.AWS_CLI_CHECK?.toLowerCase() === 'require';
  const cli = await findAwsCliV2();
  if (cli.path === undefined) {
    const seen = cli.seen.length > 0 ? ` (seen: ${cli.seen.join('; ')})` : '';
    console.log(`${required ? 'failed' : 'skipped'}: no AWS CLI v2 found on PATH${seen}.`);
    console.log(INSTALL_HINT);
    return required ? 1 : 0;
  }
  console.log(`AWS CLI: ${cli.path} (${cli.version})`);

  const home = mkdtempSync(join(tmpdir(), 'aws-cli-check-'));
  temporaryHome = home;
  const sandbox = await startSandbox({
    tables: { [TABLE]: ['id'] },
    secrets: { [SECRET]: SECRET_VALUE },
    // Its clock off: the check's schedule is for 2030 anyway.
    scheduler: { tickMs: false, groups: [SCHEDULE_GROUP] },
  });
  const env = isolatedEnv(sandbox, home);
  const common = ['--endpoint-url', sandbox.url, '--output', 'json', '--no-cli-pager'];
  let failed = 0;
  let passed = 0;
  try {
    for (const group of CHECKS) {
      const answers = await Promise.all(
        group.map((check) => run(cli.path as string, [...check.args, ...common], env)),
      );
      group.forEach((check, index) => {
        const problem = check.verify(answers[index] as Run);
        if (problem === undefined) passed++;
        else failed++;
        console.log(
          problem === undefined ? `ok    ${check.name}` : `FAIL  ${check.name}: ${problem}`,
        );
      });
    }
  } finally {
    await sandbox.close();
    rmSync(home, { recursive: true, force: true });
  }
  console.log(`aws-cli check: ${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

function abandon(): never {
  for (const child of running) child.kill('SIGKILL');
  if (temporaryHome) rmSync(temporaryHome, { recursive: true, force: true });
  process.exit(1);
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, abandon);
// Also when whatever started it goes away without a signal reaching it.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) abandon();
}, 1000).unref();

process.exitCode = await main();
