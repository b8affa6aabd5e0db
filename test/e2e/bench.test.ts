/**
 * `npm run bench` keeps working: one short run (one cold round, a few warm invocations) packages
 * the functions, checks every answer, and prints its table and JSON line. Times are printed, not
 * asserted (benchmarks are not tests); what is asserted is what does not depend on the machine:
 * every function answered, and how many GetSecretValue calls each container made.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { serverlessFunctionNames } from '../../scripts/routes.ts';

jest.setTimeout(240_000);

const ROOT = join(__dirname, '..', '..');

describe('npm run bench', () => {
  it('measures every function against the peer and prints a table and a JSON line', () => {
    const run = spawnSync(process.execPath, [join(ROOT, 'bench', 'run.ts')], {
      cwd: ROOT,
      encoding: 'utf8',
      env: {
        ...process.env,
        BENCH_COLD_ROUNDS: '1',
        BENCH_WARM_ROUNDS: '1',
        BENCH_WARM_BATCH: '5',
      },
    });

    expect(run.stderr).not.toMatch(/Error/);
    expect(run.status).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^\| function +\| zip KiB \| bundle KiB \|/);
    expect(run.stdout).toMatch(/Slack command, cold .* help answered \d+ ms and get \d+ ms/);
    const results = JSON.parse(lines.at(-1) as string);
    const functions = results.functions as {
      name: string;
      bundle_kib: number;
      secret_reads_warm: number;
      secret_reads_concurrent: number;
    }[];
    // Every function of serverless.yml.
    expect(functions.map((each) => each.name).sort()).toEqual(serverlessFunctionNames(ROOT).sort());
    for (const each of functions) {
      const reads = each.name === 'getOpenApi' ? 0 : 1;
      expect([each.name, each.secret_reads_concurrent, each.secret_reads_warm]).toEqual([
        each.name,
        reads,
        reads,
      ]);
      expect(each.bundle_kib).toBeLessThan(results.baselines.peer.bundle_kib);
    }
    // The peer's usual module-level cache reads once per invocation until the first read is back.
    expect(results.baselines.peer.secret_reads_concurrent).toBe(100);
  });
});
