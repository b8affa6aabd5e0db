/**
 * Logged stack traces name the TypeScript sources (lib/observability/source-map.ts), read from the
 * map a bundle ships, without Node.js's --enable-source-maps.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { sourceMappedStack } from '../../lib/observability/source-map.ts';

const ROOT = join(__dirname, '..', '..');
// Two folders below the project's root, as the functions' bundles are built.
const DIR = join(ROOT, '.tmp', `source-map-${process.pid}`);

async function bundleAndThrow(name: string, { keepMap = true } = {}): Promise<string> {
  const outfile = join(DIR, `${name}.cjs`);
  await build({
    entryPoints: [join(ROOT, 'test', 'fixtures', 'throwing.ts')],
    outfile,
    bundle: true,
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    format: 'cjs',
    platform: 'node',
    logLevel: 'silent',
  });
  if (!keepMap) unlinkSync(`${outfile}.map`);
  // In a plain Node.js process, as in Lambda (jest maps the stacks of its own processes).
  const run = spawnSync(
    process.execPath,
    [
      '-e',
      `try { require(${JSON.stringify(outfile)}).refuse('on purpose') } catch (e) { process.stdout.write(e.stack) }`,
    ],
    { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } },
  );
  return run.stdout;
}

beforeAll(() => mkdirSync(DIR, { recursive: true }));
afterAll(() => rmSync(DIR, { recursive: true, force: true }));

describe('sourceMappedStack', () => {
  it("moves a bundle's frames to the TypeScript line they came from", async () => {
    const stack = await bundleAndThrow('mapped');
    expect(stack).toMatch(/mapped\.cjs:1:\d+\)/);

    const mapped = sourceMappedStack(stack);

    expect(mapped.split('\n')[0]).toBe('Error: refused: on purpose');
    expect(mapped.split('\n')[1]).toMatch(/^ {4}at \S+ \(test\/fixtures\/throwing\.ts:3:9\)$/);
    expect(mapped).not.toContain('mapped.cjs');
  });

  it('leaves frames alone where there is no map, and frames outside bundles', async () => {
    const stack = await bundleAndThrow('unmapped', { keepMap: false });
    const foreign =
      'Error: x\n    at f (node:internal/process/task_queues:105:5)\n    at /nowhere/a.js:1:2';

    expect(sourceMappedStack(stack)).toBe(stack);
    expect(sourceMappedStack(foreign)).toBe(foreign);
  });

  it("maps frames alone: a message naming a bundle's position is left as written", async () => {
    const stack = await bundleAndThrow('message');
    const frames = stack.split('\n').slice(1).join('\n');
    const bundlePosition = /\((\/[^()]*message\.cjs:1:\d+)\)/.exec(stack)?.[1] as string;
    const crafted = `Error: upstream said ${bundlePosition}\n${frames}`;

    const mapped = sourceMappedStack(crafted).split('\n');

    expect(mapped[0]).toBe(`Error: upstream said ${bundlePosition}`);
    expect(mapped[1]).toMatch(/\(test\/fixtures\/throwing\.ts:3:9\)$/);
  });

  it('leaves a position the map does not cover as it is', async () => {
    const stack = await bundleAndThrow('beyond');
    const file = /\((\/[^()]*beyond\.cjs):1:\d+\)/.exec(stack)?.[1] as string;
    const beyond = `Error: x\n    at f (${file}:400:1)`;

    expect(sourceMappedStack(beyond)).toBe(beyond);
  });
});
