/**
 * The zone offsets bundled into the functions (lib/sampling/zone.ts ZoneOffsets) against the
 * runtime's Intl, which they stand in for: every half hour of two years and each second around
 * each change, in zones with and without daylight saving, north and south, with half-hour and
 * 45-minute offsets and a 30-minute daylight shift.
 */
import { rateAt } from '../../lib/sampling/evaluate.ts';
import { type Rule, validatePolicy } from '../../lib/sampling/policy.ts';
import { zoneOffsetsOf } from '../../lib/sampling/schedules.ts';
import {
  formatLocalInstant,
  offsetAt,
  useZoneOffsets,
  wallOf,
  type ZoneOffsets,
  zoneOffsets,
} from '../../lib/sampling/zone.ts';

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const TZ = process.versions.tz as string;
const FROM = Date.UTC(2026, 5, 1);
const UNTIL = Date.UTC(2028, 5, 1);

const ZONES = [
  'Europe/Berlin',
  'America/New_York',
  'America/Santiago',
  'Australia/Lord_Howe',
  'America/St_Johns',
  'Pacific/Chatham',
  'Asia/Kolkata',
  'UTC',
];

afterEach(() => useZoneOffsets(undefined));

/** Offsets at the instants, as Intl gives them (no table installed). */
function intlOffsets(zone: string, instants: number[]): number[] {
  useZoneOffsets(undefined);
  return instants.map((instant) => offsetAt(instant, zone));
}

describe('zone offsets computed at package time', () => {
  it.each(ZONES)(
    '%s: agree with Intl every half hour for two years and around each change',
    (zone) => {
      const table = zoneOffsets(zone, FROM, UNTIL);
      const instants: number[] = [];
      for (let instant = FROM; instant < UNTIL; instant += 30 * MINUTE) instants.push(instant);
      for (const [change] of table.changes.slice(1)) {
        instants.push(change - 1000, change - 1, change, change + 999, change + 1000);
      }
      const expected = intlOffsets(zone, instants);

      useZoneOffsets({ tz: TZ, zones: { [zone]: table } });
      const actual = instants.map((instant) => offsetAt(instant, zone));
      const walls = instants.map((instant) => wallOf(instant, zone));

      const wrong = instants.filter((_, index) => actual[index] !== expected[index]);
      expect(wrong.map((instant) => new Date(instant).toISOString())).toEqual([]);
      expect(walls).toEqual(
        instants.map(
          (instant, index) => Math.floor(instant / 1000) * 1000 + (expected[index] ?? 0),
        ),
      );
    },
  );

  it('has a change for each daylight-saving switch, and none in a zone without daylight saving', () => {
    const changes = (zone: string) =>
      zoneOffsets(zone, FROM, UNTIL)
        .changes.slice(1)
        .map(([at, offset]) => `${new Date(at).toISOString()} ${offset / MINUTE}`);

    expect(changes('Europe/Berlin')).toEqual([
      '2026-10-25T01:00:00.000Z 60',
      '2027-03-28T01:00:00.000Z 120',
      '2027-10-31T01:00:00.000Z 60',
      '2028-03-26T01:00:00.000Z 120',
    ]);
    // Lord Howe Island moves its clocks by half an hour.
    expect(changes('Australia/Lord_Howe').map((line) => line.split(' ')[1])).toEqual([
      '660',
      '630',
      '660',
      '630',
    ]);
    expect(changes('Asia/Kolkata')).toEqual([]);
  });

  it('are read inside their span and for their zone only; Intl answers elsewhere', () => {
    const berlinSummer = Date.UTC(2027, 6, 1, 12);
    const fake: ZoneOffsets = { from: FROM, until: UNTIL, changes: [[FROM, 5 * HOUR]] };
    useZoneOffsets({ tz: TZ, zones: { 'Europe/Berlin': fake } });

    expect(offsetAt(berlinSummer, 'Europe/Berlin')).toBe(5 * HOUR);
    expect(formatLocalInstant(berlinSummer, 'Europe/Berlin')).toBe('2027-07-01T17:00:00+05:00');
    expect(offsetAt(UNTIL + 200 * DAY, 'Europe/Berlin')).toBe(1 * HOUR); // December
    expect(offsetAt(FROM - DAY, 'Europe/Berlin')).toBe(2 * HOUR);
    expect(offsetAt(berlinSummer, 'America/New_York')).toBe(-4 * HOUR);
    // No instant at all is not read from a table: Intl refuses it.
    expect(() => offsetAt(Number.NaN, 'Europe/Berlin')).toThrow(RangeError);
  });

  it('are left unread on a runtime whose time-zone data is newer than theirs', () => {
    const berlinSummer = Date.UTC(2027, 6, 1, 12);
    const fake: ZoneOffsets = { from: FROM, until: UNTIL, changes: [[FROM, 5 * HOUR]] };

    useZoneOffsets({ tz: '2000a', zones: { 'Europe/Berlin': fake } });
    expect(offsetAt(berlinSummer, 'Europe/Berlin')).toBe(2 * HOUR);

    useZoneOffsets({ tz: TZ, zones: { 'Europe/Berlin': fake } });
    expect(offsetAt(berlinSummer, 'Europe/Berlin')).toBe(5 * HOUR);

    useZoneOffsets({ tz: '9999z', zones: { 'Europe/Berlin': fake } });
    expect(offsetAt(berlinSummer, 'Europe/Berlin')).toBe(5 * HOUR);
  });

  it('spare a function Intl: evaluating a rule in a zone with a table constructs no DateTimeFormat', () => {
    const policy = validatePolicy({
      timezone: 'Asia/Tokyo',
      rules: [
        {
          name: 'r',
          streams: { description_prefix: 'p' },
          default_rate: 1,
          windows: [
            { days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '20:00', end: '08:00', rate: 0.1 },
          ],
        },
      ],
    });
    const now = Date.UTC(2027, 0, 4, 12); // Monday 21:00 in Tokyo
    useZoneOffsets(zoneOffsetsOf(policy, now));
    const constructed = jest.spyOn(Intl, 'DateTimeFormat');

    const state = rateAt(policy.rules[0] as Rule, now);
    const shown = formatLocalInstant(now, 'Asia/Tokyo');

    expect(state.rate).toBe(0.1);
    expect(shown).toBe('2027-01-04T21:00:00+09:00');
    expect(constructed).not.toHaveBeenCalled();
    constructed.mockRestore();
  });
});
