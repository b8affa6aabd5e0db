/**
 * `npm run secret:new`: a caller token, printed once, and the secret JSON that lets it in.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { findCaller } from '../../lib/auth/tokens.ts';
import { Caller, ServiceSecret } from '../../lib/secrets/service-secret.ts';

const SCRIPT = join(__dirname, '..', '..', 'scripts', 'new-caller.ts');

function run(...args: string[]) {
  return spawnSync(process.execPath, [SCRIPT, ...args], { encoding: 'utf8' });
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
});
