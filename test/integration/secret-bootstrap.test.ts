/**
 * `npm run secret:new`: a caller token, printed once, and the secret JSON that lets it in.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findCaller } from '../../lib/auth/tokens.ts';
import { Caller, ServiceSecret } from '../../lib/secrets/service-secret.ts';

const SCRIPT = join(__dirname, '..', '..', 'scripts', 'new-caller.ts');

function run(...args: string[]) {
  return runWith({}, ...args);
}

function runWith(env: Record<string, string>, ...args: string[]) {
  return spawnSync(process.execPath, [SCRIPT, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NGROK_API_KEY: '', ...env },
  });
}

describe('Script: npm run secret:new', () => {
  it('prints a token and the caller entry whose hash lets exactly that token in', () => {
    const { status, stdout } = run('--name', 'incident-bot', '--scopes', 'read');
    const token = /^\s+(nes_[A-Za-z0-9_-]{43})$/m.exec(stdout)?.[1] as string;
    const [entryLine, secretLine] = stdout
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line.startsWith('{'));

    const caller = Caller.parse(JSON.parse(entryLine as string));
    const secret = ServiceSecret.parse(JSON.parse(secretLine as string));

    expect(status).toBe(0);
    expect(caller).toMatchObject({ name: 'incident-bot', scopes: ['read'] });
    expect(findCaller([caller], token)?.name).toBe('incident-bot');
    expect(findCaller([caller], `${token}x`)).toBeUndefined();
    expect(secret.callers).toEqual([caller]);
  });

  it('makes a new token each time', () => {
    const first = /nes_\S+/.exec(run('--name', 'a').stdout)?.[0];
    const second = /nes_\S+/.exec(run('--name', 'a').stdout)?.[0];

    expect(first).not.toBe(second);
  });

  it.each([
    [[], /--name is required/],
    [['--name', 'has space'], /--name may hold/],
    [['--name', 'ci', '--scopes', 'read,admin'], /Unknown scope 'admin'/],
    [['--name', 'ci', '--nope'], /Unknown option/],
  ])('refuses %p with a message and exit code 2, printing no token', (args, message) => {
    const { status, stdout, stderr } = run(...args);

    expect(status).toBe(2);
    expect(stderr).toMatch(message);
    expect(stdout).not.toMatch(/nes_/);
  });

  it('--out writes the whole secret, readable by the service, with the key from NGROK_API_KEY', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'secret-')), 'secret.json');

    const { status, stdout } = runWith(
      { NGROK_API_KEY: '2AbcKeyFromEnv' },
      '--name',
      'ci',
      '--out',
      file,
    );

    const token = /^\s+(nes_[A-Za-z0-9_-]{43})$/m.exec(stdout)?.[1] as string;
    const secret = ServiceSecret.parse(JSON.parse(readFileSync(file, 'utf8')));
    expect(status).toBe(0);
    expect(secret.ngrok_api_key).toBe('2AbcKeyFromEnv');
    expect(findCaller(secret.callers, token)?.scopes).toEqual(['read', 'write']);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(stdout).toContain(`--secret-string file://${file}`);
    expect(stdout).not.toContain('2AbcKeyFromEnv');
  });

  it('--out into a folder that does not exist says so before printing any token (exit 2)', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'secret-')), 'missing', 'secret.json');

    const refused = run('--name', 'ci', '--out', file);

    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('does not exist');
    expect(refused.stderr).toContain('No token was made');
    expect(`${refused.stdout}${refused.stderr}`).not.toMatch(/nes_|at .+\.ts:\d+|ENOENT/);
    expect(existsSync(file)).toBe(false);
  });

  it('--out leaves a placeholder key to fill in, and never overwrites a file without --force', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'secret-')), 'secret.json');
    writeFileSync(file, 'keep me');

    const refused = run('--name', 'ci', '--out', file);
    const kept = readFileSync(file, 'utf8');
    const forced = run('--name', 'ci', '--out', file, '--force');

    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('exists: not overwritten (add --force');
    expect(refused.stdout).not.toMatch(/nes_/);
    expect(kept).toBe('keep me');
    expect(forced.status).toBe(0);
    expect(JSON.parse(readFileSync(file, 'utf8')).ngrok_api_key).toBe('<your ngrok API key>');
    expect(forced.stdout).toContain('put your ngrok API key in it first');
  });

  it('--help prints the usage and exits 0', () => {
    const { status, stdout } = run('--help');

    expect(status).toBe(0);
    expect(stdout).toContain('Usage: npm run secret:new -- --name <caller>');
    expect(stdout).toContain('--out <file>');
    expect(stdout).not.toMatch(/nes_/);
  });
});
