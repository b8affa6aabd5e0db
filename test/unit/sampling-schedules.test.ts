/**
 * The EventBridge Scheduler schedules a policy needs: one per boundary time (rules and days
 * merged), one-time schedules where daylight saving skips a boundary, and the enforce schedule.
 */

import { logicalIdOf } from '../../infra/sampling.ts';
import { validatePolicy } from '../../lib/sampling/policy.ts';
import {
  boundarySchedules,
  enforcedRules,
  gapSchedules,
  repeatedBoundaries,
} from '../../lib/sampling/schedules.ts';

const policy = validatePolicy({
  timezone: 'Europe/Berlin',
  rules: [
    {
      name: 'web',
      streams: { description_prefix: 'web/' },
      default_rate: 1,
      windows: [
        { days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '22:00', end: '06:00', rate: 0.1 },
        { days: ['sat'], start: '06:00', end: '24:00', rate: 0.05 },
      ],
    },
    {
      name: 'api',
      streams: { description_prefix: 'api/' },
      default_rate: 1,
      enforce: true,
      windows: [{ days: ['sun'], start: '22:00', end: '23:00', rate: 0.2 }],
    },
    {
      name: 'east',
      timezone: 'America/New_York',
      streams: { ids: ['es_east1'] },
      default_rate: 1,
      windows: [{ days: ['sun'], start: '02:30', end: '04:00', rate: 0.5 }],
    },
  ],
});

describe('boundarySchedules', () => {
  const schedules = boundarySchedules(policy);
  const byName = Object.fromEntries(schedules.map((schedule) => [schedule.name, schedule]));

  it('makes one schedule per zone and boundary time, merging rules and days', () => {
    expect(schedules.map((schedule) => schedule.name)).toEqual([
      'boundary-America.New_York-0230',
      'boundary-America.New_York-0400',
      'boundary-Europe.Berlin-0000',
      'boundary-Europe.Berlin-0600',
      'boundary-Europe.Berlin-2200',
      'boundary-Europe.Berlin-2300',
    ]);
    // 22:00: web's weeknights start Monday-Friday, api's window starts Sunday.
    expect(byName['boundary-Europe.Berlin-2200']).toMatchObject({
      days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sun'],
      rules: ['api', 'web'],
      expression: 'cron(0 22 ? * MON,TUE,WED,THU,FRI,SUN *)',
      timezone: 'Europe/Berlin',
    });
  });

  it('puts the end of a window that crosses midnight, or ends at 24:00, on the next day', () => {
    // web's weeknights end Tuesday-Saturday 06:00; Saturday's 24:00 is Sunday 00:00.
    expect(byName['boundary-Europe.Berlin-0600']?.days).toEqual([
      'tue',
      'wed',
      'thu',
      'fri',
      'sat',
    ]);
    // Saturday's 24:00 is Sunday 00:00.
    expect(byName['boundary-Europe.Berlin-0000']?.days).toEqual(['sun']);
  });

  it('writes every day as *, and names that Scheduler and CloudFormation accept', () => {
    const daily = boundarySchedules(
      validatePolicy({
        timezone: 'Etc/GMT+5',
        rules: [
          {
            name: 'd',
            streams: { ids: ['es_d1'] },
            default_rate: 1,
            windows: [
              {
                days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'],
                start: '09:15',
                end: '17:45',
                rate: 0.3,
              },
            ],
          },
        ],
      }),
    );

    expect(daily.map((schedule) => schedule.expression)).toEqual([
      'cron(15 9 ? * * *)',
      'cron(45 17 ? * * *)',
    ]);
    for (const schedule of [...daily, ...schedules]) {
      expect(schedule.name).toMatch(/^[0-9a-zA-Z_.-]{1,64}$/);
      expect(logicalIdOf('SamplingSchedule', schedule.name)).toMatch(/^[A-Za-z0-9]{1,255}$/);
    }
  });
});

describe('gapSchedules and repeatedBoundaries: daylight saving', () => {
  const from = Date.parse('2026-11-27T00:00:00Z');

  it('adds a one-time schedule at the end of each gap that swallows a boundary, for 24 months', () => {
    const gaps = gapSchedules(policy, from);

    expect(
      gaps.map(({ name, expression, timezone, rules }) => ({ name, expression, timezone, rules })),
    ).toEqual([
      {
        name: 'gap-America.New_York-20270314-0230',
        expression: 'at(2027-03-14T03:00:00)',
        timezone: 'America/New_York',
        rules: ['east'],
      },
      {
        name: 'gap-America.New_York-20280312-0230',
        expression: 'at(2028-03-12T03:00:00)',
        timezone: 'America/New_York',
        rules: ['east'],
      },
    ]);
    expect(gaps[0]?.at).toBe(Date.parse('2027-03-14T07:00:00Z'));
  });

  it('finds a Lord Howe half-hour gap, and none for a boundary outside it', () => {
    const lordHowe = (start: string) =>
      validatePolicy({
        timezone: 'Australia/Lord_Howe',
        rules: [
          {
            name: 'l',
            streams: { ids: ['es_l1'] },
            default_rate: 1,
            windows: [{ days: ['sun'], start, end: '05:00', rate: 0.5 }],
          },
        ],
      });

    expect(gapSchedules(lordHowe('02:15'), from, 12).map((gap) => gap.expression)).toEqual([
      'at(2027-10-03T02:30:00)',
    ]);
    expect(gapSchedules(lordHowe('02:30'), from, 12)).toEqual([]);
  });

  it('names the boundaries whose local time occurs twice (run once, at the first)', () => {
    const repeated = repeatedBoundaries(
      validatePolicy({
        timezone: 'America/New_York',
        rules: [
          {
            name: 'n',
            streams: { ids: ['es_n1'] },
            default_rate: 1,
            windows: [{ days: ['sun'], start: '01:30', end: '03:00', rate: 0.5 }],
          },
        ],
      }),
      from,
      12,
    );

    expect(repeated).toEqual([
      {
        timezone: 'America/New_York',
        time: '01:30',
        date: '2027-11-07',
        at: Date.parse('2027-11-07T05:30:00Z'),
        rules: ['n'],
      },
    ]);
  });
});

describe('enforcedRules', () => {
  it('lists the rules corrected every 15 minutes', () => {
    expect(enforcedRules(policy)).toEqual(['api']);
  });
});
