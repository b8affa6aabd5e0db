/**
 * `npm run check:aws-cli`: the real AWS CLI v2 against the sandbox's AWS stand-ins. Where an AWS
 * CLI v2 is installed, every check must pass; where none is, the check must say so and how to
 * install it — and this test says so too, in its output, rather than pass in silence.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const SCRIPT = join(ROOT, 'scripts', 'aws-cli-check.ts');

interface Outcome {
  code: number | null;
  output: string;
}

const children = new Set<ChildProcess>();
const temporaryDirs: string[] = [];

afterAll(() => {
  // Its own process group: the script and any `aws` it started end together.
  for (const child of children) {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  for (const dir of temporaryDirs) rmSync(dir, { recursive: true, force: true });
});

function checkAwsCli(env: NodeJS.ProcessEnv, args: string[] = []): Promise<Outcome> {
  const child = spawn(process.execPath, [SCRIPT, ...args], {
    cwd: ROOT,
    env: { ...env, AWS_CLI_CHECK: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  children.add(child);
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  return new Promise((resolve) => {
    child.once('exit', (code) => {
      children.delete(child);
      resolve({ code, output });
    });
  });
}

/** A PATH whose only `aws` is an AWS CLI v1, as a pyenv or pip install leaves it. */
function pathWithAwsCliV1Only(): string {
  const dir = mkdtempSync(join(tmpdir(), 'aws-v1-'));
  temporaryDirs.push(dir);
  const aws = join(dir, 'aws');
  writeFileSync(aws, '#!/bin/sh\necho "aws-cli/1.45.11 Python/3.11.7 Linux botocore/1.43.11"\n');
  chmodSync(aws, 0o755);
  return [dir, dirname(process.execPath)].join(delimiter);
}

describe('npm run check:aws-cli', () => {
  it('with no AWS CLI v2 on PATH, says it skipped and how to install it; with --require, fails', async () => {
    const env = { ...process.env, PATH: pathWithAwsCliV1Only(), AWS_CLI: '' };

    const skipped = await checkAwsCli(env);
    const required = await checkAwsCli(env, ['--require']);

    expect(skipped.code).toBe(0);
    expect(skipped.output).toContain('skipped: no AWS CLI v2 found on PATH');
    expect(skipped.output).toContain('aws-cli/1.45.11');
    expect(skipped.output).toContain('apt-get install awscli');
    expect(required.code).toBe(1);
    expect(required.output).toContain('failed: no AWS CLI v2 found on PATH');
  });

  it('passes every check with the AWS CLI v2 on PATH (or says, here too, that none is installed)', async () => {
    const outcome = await checkAwsCli(process.env);

    if (outcome.output.startsWith('skipped:')) {
      // Not a silent pass: the run's output shows that the CLI checks did not run, and why.
      console.warn(`The AWS CLI checks did not run.\n${outcome.output}`);
      expect(outcome.output).toContain('apt-get install awscli');
      return;
    }
    expect(outcome.output).toMatch(/^AWS CLI: .+ \(aws-cli\/2\./);
    expect(outcome.output).not.toContain('FAIL');
    expect(outcome.output).toContain('aws-cli check: 14 passed, 0 failed');
    expect(outcome.code).toBe(0);
  }, 180_000);
});
