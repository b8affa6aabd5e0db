/**
 * The policy file: every semantic rule it enforces, and errors that name the rule, the window,
 * the field, and the file's line and column.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPolicyFile, parsePolicy } from '../../lib/sampling/load.ts';
import { policyJsonSchema } from '../../lib/sampling/policy.ts';

const ROOT = join(__dirname, '..', '..');

function errorOf(text: string): string {
  try {
    parsePolicy(text, 'p.yml');
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('The policy was accepted.');
}

const rule = (windows: string, extra = '') => `timezone: Europe/Berlin
rules:
  - name: prod-traffic
    streams:
      description_prefix: "prod/"${extra}
    default_rate: 1
    windows:
${windows}`;

describe('The policy file', () => {
  it('ships valid, selecting only the sandbox’s sample streams', () => {
    const policy = loadPolicyFile(join(ROOT, 'sampling-schedule.yml'));

    expect(policy.rules.map((each) => each.streams)).toEqual([
      { ids: ['es_2SandboxSampleEventStream00'], description_prefix: 'sandbox-example/' },
      { ids: [], description_prefix: 'sandbox-example/batch/' },
    ]);
  });

  it('accepts the example of docs/sampling.md', () => {
    const guide = readFileSync(join(ROOT, 'docs', 'sampling.md'), 'utf8');
    const section = guide.slice(guide.indexOf('### An example for production streams'));
    const example = /```yaml\n([\s\S]*?)```/.exec(section)?.[1] ?? '';

    expect(parsePolicy(example, 'docs/sampling.md').rules[0]?.windows).toHaveLength(3);
  });

  it('has a committed JSON Schema that is what the zod schema gives (npm run generate)', () => {
    expect(readFileSync(join(ROOT, 'sampling-schedule.schema.json'), 'utf8')).toBe(
      `${JSON.stringify(policyJsonSchema(), null, 2)}\n`,
    );
  });

  it('normalises times to minutes, 24:00 to the end of the day, and a rule’s zone to the file’s', () => {
    const policy = parsePolicy(
      rule(`      - { days: [sat, sun], start: "00:00", end: "24:00", rate: 0.05 }`),
      'p.yml',
    );

    expect(policy.rules[0]).toMatchObject({
      timezone: 'Europe/Berlin',
      enforce: false,
      windows: [{ name: null, days: ['sat', 'sun'], start: 0, end: 1440, rate: 0.05 }],
    });
  });

  it('refuses overlapping windows, naming both and a local time they share, with a position', () => {
    // The example of the issue that asked for this: Friday 22:00-06:00 covers Saturday 00:00.
    const message = errorOf(
      rule(`      - name: weeknights
        days: [mon, tue, wed, thu, fri]
        start: "22:00"
        end: "06:00"
        rate: 0.1
      - days: [sat, sun]
        start: "00:00"
        end: "24:00"
        rate: 0.05`),
    );

    expect(message).toContain(
      "p.yml:13:9: rules[0] 'prod-traffic' › windows[1] #2: overlaps window 'weeknights': both hold at sat 00:00",
    );
  });

  it('refuses overlaps across the end of the week', () => {
    const message = errorOf(
      rule(`      - { name: sunday-night, days: [sun], start: "20:00", end: "04:00", rate: 0.1 }
      - { name: monday-early, days: [mon], start: "03:00", end: "05:00", rate: 0.2 }`),
    );

    expect(message).toContain("overlaps window 'sunday-night': both hold at mon 03:00");
  });

  it('refuses a window whose start equals its end, and a start of 24:00', () => {
    expect(
      errorOf(rule(`      - { days: [mon], start: "06:00", end: "06:00", rate: 0.1 }`)),
    ).toContain("p.yml:8:45: rules[0] 'prod-traffic' › windows[0] #1 › end: equals start");
    expect(
      errorOf(rule(`      - { days: [mon], start: "24:00", end: "06:00", rate: 0.1 }`)),
    ).toContain('start: must be a time HH:MM from 00:00 to 23:59');
  });

  it('names every bad field at once: rate, day, time, zone, unknown field', () => {
    const message = errorOf(`timezone: Mars/Olympus
rules:
  - name: Bad_Name
    streams: { ids: [es_ok1, "not an id"] }
    default_rate: 1.5
    colour: red
    windows:
      - { name: w, days: [mon, funday], start: "7:00", end: "25:00", rate: 0 }
`);

    for (const expected of [
      'p.yml:1:11: timezone: is not an IANA time zone',
      "p.yml:3:11: rules[0] 'Bad_Name' › name: must be 1 to 64 lower-case letters",
      "p.yml:4:30: rules[0] 'Bad_Name' › streams › ids[1]: must be an Event Stream id",
      "p.yml:5:19: rules[0] 'Bad_Name' › default_rate: must be at most 1",
      "p.yml:3:5: rules[0] 'Bad_Name': has unknown field(s) colour",
      "p.yml:8:32: rules[0] 'Bad_Name' › windows[0] 'w' › days[1]: must be one of mon, tue",
      "p.yml:8:61: rules[0] 'Bad_Name' › windows[0] 'w' › end: must be a time HH:MM from 00:00 to 24:00",
      "p.yml:8:76: rules[0] 'Bad_Name' › windows[0] 'w' › rate: must be at least 0.01",
    ]) {
      expect(message).toContain(expected);
    }
    expect(message).not.toContain('start:'); // "7:00" is a valid time
  });

  it('refuses an offset or a miscapitalised zone (EventBridge Scheduler takes IANA names only)', () => {
    for (const zone of ['"+05:30"', 'europe/berlin', 'EUROPE/BERLIN', 'Mars/Olympus', 'GMT+5']) {
      expect(errorOf(`timezone: ${zone}\nrules: []\n`)).toContain(
        'timezone: is not an IANA time zone',
      );
    }
    expect(parsePolicy('timezone: UTC\nrules: []\n', 'p.yml').timezone).toBe('UTC');
    expect(parsePolicy('timezone: Etc/GMT+5\nrules: []\n', 'p.yml').timezone).toBe('Etc/GMT+5');
  });

  it('refuses two rules equally specific for the same streams, and a rule that selects nothing', () => {
    const message = errorOf(`timezone: UTC
rules:
  - { name: a, streams: { ids: [es_same1], description_prefix: "prod/" }, default_rate: 1 }
  - { name: b, streams: { ids: [es_same1] }, default_rate: 1 }
  - { name: c, streams: { description_prefix: "prod/" }, default_rate: 1 }
  - { name: a, streams: {}, default_rate: 1 }
`);

    expect(message).toContain(
      "rules[1] 'b' › streams › ids: es_same1 is also selected by id in rules[0] 'a'",
    );
    expect(message).toContain(
      "rules[2] 'c' › streams › description_prefix: 'prod/' is also the prefix of rules[0] 'a'",
    );
    expect(message).toContain("rules[3] 'a' › name: 'a' is already the name of rules[0]");
    expect(message).toContain("rules[3] 'a' › streams: must select streams");
  });

  it('reports YAML that does not parse with its line, and a duplicate key', () => {
    expect(errorOf('timezone: UTC\nrules: [\n')).toMatch(
      /^p\.yml is not valid YAML:\n {2}p\.yml:\d+:\d+: /,
    );
    expect(errorOf('timezone: UTC\ntimezone: UTC\nrules: []\n')).toContain(
      'p.yml:2:1: Map keys must be unique',
    );
  });

  it('says which file could not be read', () => {
    expect(() => loadPolicyFile('/nonexistent/policy.yml')).toThrow(
      'The sampling policy /nonexistent/policy.yml cannot be read',
    );
  });
});
