/**
 * The evaluator against a brute-force oracle, minute by minute. The oracle shares no code with
 * lib/sampling/evaluate.ts or zone.ts: it walks the clock of the zone one minute at a time and
 * applies each boundary the first time the clock shows its local time or a later one (so a
 * boundary in a spring-forward gap applies when the clock jumps past it, and one in a repeated
 * hour applies once, at its first occurrence), ends before starts at the same local time.
 */
import fc from 'fast-check';
import { rateAt } from '../../lib/sampling/evaluate.ts';
import { DAYS, type Rule } from '../../lib/sampling/policy.ts';
import { useZoneOffsets, type ZoneOffsets, zoneOffsets } from '../../lib/sampling/zone.ts';
import { DAY, MINUTE, oracleRates, ruleOf } from '../helpers/sampling-oracle.ts';

function disagreements(rule: Rule, from: number, to: number): string[] {
  const expected = oracleRates(rule, from, to);
  const found: string[] = [];
  for (let index = 0; index < expected.length && found.length < 5; index++) {
    const instant = from + index * MINUTE;
    const actual = rateAt(rule, instant).rate;
    if (actual !== expected[index]) {
      found.push(
        `${new Date(instant).toISOString()}: evaluator ${actual}, oracle ${expected[index]}`,
      );
    }
  }
  return found;
}

const EVERY_DAY = [...DAYS];
const YEAR = [Date.UTC(2027, 0, 1), Date.UTC(2028, 0, 1)] as const;

const CASES: [string, unknown[]][] = [
  [
    'Europe/Berlin',
    [
      { days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '22:00', end: '06:00', rate: 0.1 },
      { days: ['sat', 'sun'], start: '06:00', end: '22:00', rate: 0.05 },
      { days: ['sun'], start: '02:30', end: '03:30', rate: 0.3 },
    ],
  ],
  [
    'America/New_York',
    [
      { days: EVERY_DAY, start: '01:30', end: '02:30', rate: 0.2 },
      { days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '17:00', rate: 0.5 },
    ],
  ],
  [
    'Australia/Lord_Howe',
    [
      { days: EVERY_DAY, start: '01:45', end: '02:15', rate: 0.2 },
      { days: ['sat'], start: '23:00', end: '01:00', rate: 0.4 },
      { days: ['sun'], start: '22:00', end: '24:00', rate: 0.6 },
    ],
  ],
];

describe('rateAt against the oracle, every minute of 2027', () => {
  it.each(CASES)('%s', (zone, windows) => {
    expect(disagreements(ruleOf(zone, windows), ...YEAR)).toEqual([]);
  });
});

// As bundled: the zones' offsets from a table made at package time (lib/sampling/zone.ts).
describe('rateAt against the oracle, every minute of 2027, on package-time zone offsets', () => {
  beforeAll(() => {
    const zones: Record<string, ZoneOffsets> = {};
    for (const [zone] of CASES) {
      zones[zone] = zoneOffsets(zone, YEAR[0] - 31 * DAY, YEAR[1] + 31 * DAY);
    }
    useZoneOffsets({ tz: process.versions.tz as string, zones });
  });
  afterAll(() => useZoneOffsets(undefined));

  it.each(CASES)('%s', (zone, windows) => {
    expect(disagreements(ruleOf(zone, windows), ...YEAR)).toEqual([]);
  });
});

describe('rateAt against the oracle, for generated policies', () => {
  const ZONES = [
    'Europe/Berlin',
    'America/New_York',
    'Australia/Lord_Howe',
    'America/Santiago',
    'Asia/Kolkata',
    'UTC',
  ];
  // Two weeks around a transition of each zone's 2027 (or any two weeks, where there is none).
  const SPANS = [
    Date.UTC(2027, 2, 8),
    Date.UTC(2027, 3, 1),
    Date.UTC(2027, 8, 28),
    Date.UTC(2027, 9, 24),
  ];
  const time = fc.integer({ min: 0, max: 95 }).map((quarter) => quarter * 15);
  const window = fc.record({
    days: fc.uniqueArray(fc.constantFrom(...DAYS), { minLength: 1, maxLength: 7 }),
    start: time,
    end: fc.integer({ min: 1, max: 96 }).map((quarter) => quarter * 15),
    rate: fc.constantFrom(0.01, 0.1, 0.25, 0.5),
  });
  const hhmm = (minutes: number) =>
    `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;

  it('agree minute by minute', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ZONES),
        fc.array(window, { minLength: 1, maxLength: 3 }),
        fc.constantFrom(...SPANS),
        (zone, windows, spanStart) => {
          let rule: Rule;
          try {
            rule = ruleOf(
              zone,
              windows.map((w) => ({ ...w, start: hhmm(w.start), end: hhmm(w.end) })),
            );
          } catch {
            return true; // overlapping or empty windows: refused by validation, nothing to check
          }
          const found = disagreements(rule, spanStart, spanStart + 14 * DAY);
          if (found.length > 0)
            throw new Error(`${zone} ${JSON.stringify(windows)}\n${found.join('\n')}`);
          return true;
        },
      ),
      { numRuns: Number(process.env.FC_RUNS ?? 25), seed: Number(process.env.FC_SEED ?? 20271031) },
    );
  });
});
