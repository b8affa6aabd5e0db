/**
 * `npm run sampling:check`: what a policy does, with no network and no AWS.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

function check(...args: string[]) {
  return spawnSync(process.execPath, [join(ROOT, 'scripts', 'sampling-check.ts'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, SAMPLING_POLICY: '' },
  });
}

function policyFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'policy-')), 'policy.yml');
  writeFileSync(file, text);
  return file;
}

describe('npm run sampling:check', () => {
  it('prints each rule’s boundaries of the week in local time and UTC, and the cron schedules', () => {
    const run = check('--from', '2027-03-22T00:00:00Z');

    expect(run.status).toBe(0);
    expect(run.stdout).toContain('sampling-schedule.yml: valid, 2 rules');
    expect(run.stdout).toContain(
      'Mon 2027-03-22 08:00 Europe/Berlin  (2027-03-22T07:00Z)  → 1 (business-hours)',
    );
    // The week crosses the spring transition: Sunday 06:00 is 04:00Z, not 05:00Z.
    expect(run.stdout).toContain('Sun 2027-03-28 06:00 Europe/Berlin  (2027-03-28T04:00Z)  → 0.25');
    expect(run.stdout).toMatch(
      /boundary-Europe\.Berlin-0800 +cron\(0 8 \? \* MON,TUE,WED,THU,FRI \*\)/,
    );
    expect(run.stdout).toContain('no boundary falls in a gap or a repeated hour');
  });

  it('warns of the boundaries daylight saving skips or repeats, with their dates', () => {
    const file = policyFile(`timezone: America/New_York
rules:
  - name: east
    streams: { ids: [es_east1] }
    default_rate: 1
    enforce: true
    windows:
      - { days: [sun], start: "01:30", end: "02:30", rate: 0.5 }
`);

    const run = check(file, '--from', '2027-01-01T00:00:00Z');

    expect(run.status).toBe(0);
    expect(run.stdout).toContain(
      'warning: 02:30 America/New_York does not exist on 2027-03-14: EventBridge Scheduler would skip it; a one-time schedule at(2027-03-14T03:00:00) sets it at the end of the gap (2027-03-14T07:00Z)',
    );
    expect(run.stdout).toContain(
      'note: 01:30 America/New_York occurs twice on 2027-11-07: set once, at the first (2027-11-07T05:30Z)',
    );
    expect(run.stdout).toMatch(
      /enforce +rate\(15 minutes\) +rule east, and the streams whose override started or ended\n/,
    );
    expect(run.stdout).toContain(`${file}: valid, 1 rule\n`);
  });

  it('exits 1 on an invalid policy, with the problems and their positions', () => {
    const file = policyFile(
      'timezone: Europe/Berlin\nrules:\n  - name: x\n    streams: {}\n    default_rate: 1\n',
    );

    const run = check(file);

    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`${file}:4:14: rules[0] 'x' › streams: must select streams`);
    expect(run.stdout).toBe('');
  });
});
