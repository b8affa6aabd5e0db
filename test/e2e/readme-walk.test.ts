/**
 * The README's quick start and walk, as a newcomer follows them: in a fresh copy of the
 * repository, `npm start` as the quick start says, then every command of the walk's code blocks
 * in order, in one shell — taken from README.md itself, never copied here — twice, the second
 * time after a restart of `npm start`, with the same $TOKEN. Every step must succeed (exit 0),
 * and one whose comment names a status (`# get it (200)`) and prints a status on its last line
 * (curl's `-w '%{http_code}'`) must print that one.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../scripts/local-stack.ts';
import { type LocalStack, ROOT, startLocalStack } from '../helpers/local-stack.ts';

jest.setTimeout(300_000);

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The fenced `sh` blocks of a README section (from its heading to the next `## `). */
function shBlocks(heading: string): string[] {
  const start = README.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`README.md has no section "## ${heading}"`);
  const end = README.indexOf('\n## ', start + heading.length + 5);
  const section = README.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map(([, block]) => block ?? '');
}

interface Step {
  /** The comment that opens it, or its first line. */
  title: string;
  script: string;
  /** The status its comment names, e.g. 201 in `# create it (201)`. */
  status?: string;
}

/** A block's steps: a comment line opens one; a block without comments is one step. */
function steps(block: string): Step[] {
  const found: Step[] = [];
  for (const line of block.split('\n')) {
    const comment = /^# (.*)$/.exec(line);
    const last = found.at(-1);
    if (comment?.[1] || !last) {
      found.push({
        title: comment?.[1] ?? line,
        script: comment ? '' : `${line}\n`,
        status: /\((\d{3})\b/.exec(comment?.[1] ?? '')?.[1],
      });
    } else {
      last.script += `${line}\n`;
    }
  }
  return found.filter((step) => step.script.trim() !== '');
}

const WALK = shBlocks('A walk through the three callers').flatMap(steps);
const QUICK_START = shBlocks('Quick start').join('\n');

let copy: string;
let port: number;

beforeAll(async () => {
  // A fresh copy, as a clone is: no token kept, no stack state, no build folders.
  copy = mkdtempSync(join(tmpdir(), 'ngrok-event-streams-walk-'));
  cpSync(ROOT, copy, {
    recursive: true,
    filter: (source) =>
      !/[/\\](node_modules|\.git|\.serverless|\.esbuild[^/\\]*|\.local-stack|coverage|\.bench)$/.test(
        source,
      ),
  });
  symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'), 'dir');
  port = await freePort();
});

afterAll(() => {
  if (copy) rmSync(copy, { recursive: true, force: true });
});

/** `npm start` as the quick start says, in the copy, with no token chosen: as a newcomer's. */
function npmStart(): Promise<LocalStack> {
  const command = /^npm start\b/m.exec(QUICK_START)?.[0];
  expect(command).toBe('npm start');
  return startLocalStack({ DEV_API_TOKEN: '' }, [], 120_000, { cwd: copy, npm: true, port });
}

/** Every step of the walk, in order, in one shell; what each printed and how it ended. */
function walk(): { step: Step; output: string; code: number }[] {
  const marker = `--step-${Date.now()}--`;
  const script = WALK.map(
    (step, index) => `echo "${marker}${index}"\n${step.script}echo "${marker}${index} exit $?"\n`,
  ).join('');
  const run = spawnSync('bash', ['-c', script], {
    cwd: copy,
    env: { ...process.env, PORT: String(port) },
    encoding: 'utf8',
    timeout: 240_000,
  });
  return WALK.map((step, index) => {
    const from = run.stdout.indexOf(`${marker}${index}\n`);
    const end = run.stdout.indexOf(`${marker}${index} exit `);
    const code = end < 0 ? -1 : Number(/exit (\d+)/.exec(run.stdout.slice(end))?.[1]);
    const output = from < 0 ? '' : run.stdout.slice(from + `${marker}${index}\n`.length, end);
    return { step, output, code };
  });
}

function expectWalked(results: ReturnType<typeof walk>) {
  for (const { step, output, code } of results) {
    const lastLine = output.trimEnd().split('\n').at(-1) ?? '';
    // Named so, a failing step says which it is.
    expect({ step: step.title, code }).toEqual({ step: step.title, code: 0 });
    // A status on the last line (curl's -w '%{http_code}') is the one the comment names.
    if (step.status && /^\d{3}$/.test(lastLine)) {
      expect({ step: step.title, status: lastLine }).toEqual({
        step: step.title,
        status: step.status,
      });
    }
  }
}

describe("the README's quick start and walk, as a newcomer follows them", () => {
  it('has a walk: HTTP, the clock, Slack and one function alone', () => {
    const commands = WALK.map((step) => step.script).join('');

    expect(WALK.length).toBeGreaterThan(10);
    expect(commands).toContain('/event-streams');
    expect(commands).toContain('/sampling/apply');
    expect(commands).toContain('npm run slack');
    expect(commands).toContain('npm run invoke');
  });

  it('works as written, twice: the second time after restarting npm start, with the same $TOKEN', async () => {
    const first = await npmStart();
    const token = readFileSync(join(copy, '.local-stack', 'token'), 'utf8').trim();
    const firstWalk = walk();
    await first.stop();

    const second = await npmStart();
    const secondWalk = walk();
    const tokenAfter = readFileSync(join(copy, '.local-stack', 'token'), 'utf8').trim();
    await second.stop();

    expect(first.output()).toContain(`http://127.0.0.1:${port}`);
    expect(first.output()).toContain(`bearer token:     ${token}`);
    expect(first.output()).toContain('.local-stack/token');
    expectWalked(firstWalk);
    expect(tokenAfter).toBe(token);
    expect(second.output()).toContain(`bearer token:     ${token}`);
    expectWalked(secondWalk);
    // The walk changed only what it made: its own stream is gone, the sample stream is there.
    expect(secondWalk.map(({ output }) => output).join('')).toContain(
      'es_2SandboxSampleEventStream00',
    );
  });
});
