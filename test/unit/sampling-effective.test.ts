/**
 * The effective rate (lib/sampling/effective.ts): the cases that matter to a person in an
 * incident, then against a brute-force oracle over generated policies and overrides, minute by
 * minute across daylight-saving transitions in several zones. The oracle's schedule shares no
 * code with lib/ (test/helpers/sampling-oracle.ts); its overrides are the definition, written
 * out.
 */
import fc from 'fast-check';
import {
  effectiveRate,
  holdingOverride,
  nextSet,
  type Override,
} from '../../lib/sampling/effective.ts';
import { DAYS, type Policy, validatePolicy } from '../../lib/sampling/policy.ts';
import { DAY, MINUTE, oracleRates } from '../helpers/sampling-oracle.ts';

const STREAM = { id: 'es_checkout', description: 'prod/checkout' };
const STRAY = { id: 'es_stray', description: 'nobody governs me' };

function policyOf(timezone: string, windows: unknown[]): Policy {
  return validatePolicy({
    timezone,
    rules: [{ name: 'r', streams: { description_prefix: 'prod/' }, default_rate: 1, windows }],
  });
}

/** Business hours in Berlin: 1.00 from 08:00 to 20:00 on weekdays, 0.10 the rest of the time. */
const BERLIN = validatePolicy({
  timezone: 'Europe/Berlin',
  rules: [
    {
      name: 'prod',
      streams: { description_prefix: 'prod/' },
      default_rate: 0.1,
      windows: [
        { days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '08:00', end: '20:00', rate: 1 },
      ],
    },
  ],
});

/** Wednesday 2027-03-10, at a UTC hour (Berlin is UTC+1 then). */
const wed = (hour: number, minute = 0) => Date.UTC(2027, 2, 10, hour, minute);

function override(fields: Partial<Override>): Override {
  return {
    stream_id: STREAM.id,
    key: 'manual',
    sampling_rate: 1,
    starts_at: wed(0),
    expires_at: wed(1),
    created_at: wed(0),
    ...fields,
  };
}

const rateAt = (overrides: Override[], instant: number, stream = STREAM) =>
  effectiveRate(BERLIN, stream, overrides, instant)?.rate;

describe('effectiveRate: what a person in an incident sees', () => {
  it('is the schedule’s rate with no override, and the override’s while it holds, [start, end)', () => {
    const raised = override({ sampling_rate: 1, starts_at: wed(20), expires_at: wed(22) });

    expect(rateAt([], wed(20))).toBe(0.1);
    expect(rateAt([raised], wed(19, 59))).toBe(0.1);
    expect(rateAt([raised], wed(20))).toBe(1);
    expect(effectiveRate(BERLIN, STREAM, [raised], wed(21))).toMatchObject({
      source: 'override',
      override: raised,
      rule: expect.objectContaining({ name: 'prod' }),
    });
    expect(rateAt([raised], wed(22))).toBe(0.1);
  });

  it('of overlapping overrides, the one set last wins, and the other takes over when it ends', () => {
    // A: 100 % until 14:00 (UTC, here). B: 50 % until 16:00.
    const a = (created: number) =>
      override({
        key: 'a',
        sampling_rate: 1,
        starts_at: wed(9),
        expires_at: wed(14),
        created_at: created,
      });
    const b = (created: number) =>
      override({
        key: 'b',
        sampling_rate: 0.5,
        starts_at: wed(9),
        expires_at: wed(16),
        created_at: created,
      });

    // A set first, B later: 50 % until 16:00, then the schedule.
    const aFirst = [a(wed(9)), b(wed(10))];
    expect([wed(10, 30), wed(13), wed(15), wed(16)].map((t) => rateAt(aFirst, t))).toEqual([
      0.5, 0.5, 0.5, 1,
    ]);
    // B set first: 100 % until 14:00, then 50 % until 16:00, then the schedule.
    const bFirst = [b(wed(9)), a(wed(10))];
    expect([wed(10, 30), wed(13), wed(15), wed(16)].map((t) => rateAt(bFirst, t))).toEqual([
      1, 1, 0.5, 1,
    ]);
    // Ending one early leaves the other.
    expect(rateAt([b(wed(9))], wed(11))).toBe(0.5);
  });

  it('two set in the same millisecond agree everywhere: the greater key wins', () => {
    const x = override({ key: 'alertmanager:x', sampling_rate: 0.5 });
    const y = override({ key: 'pagerduty:y', sampling_rate: 0.25 });

    expect(holdingOverride([x, y], STREAM.id, wed(0, 30))).toBe(y);
    expect(holdingOverride([y, x], STREAM.id, wed(0, 30))).toBe(y);
  });

  it('a boundary inside an override changes nothing: the next set is the override’s end', () => {
    // The schedule drops to 0.10 at 20:00 Berlin (19:00 UTC); the override holds until 21:00 UTC.
    const raised = override({ sampling_rate: 1, starts_at: wed(18), expires_at: wed(21) });

    expect(rateAt([raised], wed(19, 30))).toBe(1);
    expect(nextSet(BERLIN, STREAM, [raised], wed(18, 30))).toMatchObject({
      at: wed(21),
      effective: { rate: 0.1, source: 'schedule' },
    });
    // Without it, the boundary itself.
    expect(nextSet(BERLIN, STREAM, [], wed(18, 30))?.at).toBe(wed(19));
  });

  it('a planned override that starts later: the schedule until then, then the override', () => {
    const launch = override({ sampling_rate: 0.5, starts_at: wed(15), expires_at: wed(17) });

    expect(rateAt([launch], wed(14))).toBe(1);
    expect(nextSet(BERLIN, STREAM, [launch], wed(14))).toMatchObject({
      at: wed(15),
      effective: { rate: 0.5, source: 'override' },
    });
  });

  it('a stream no rule governs goes back to the rate it had before its first override', () => {
    const first = override({
      stream_id: STRAY.id,
      sampling_rate: 1,
      restore_rate: 0.3,
      starts_at: wed(1),
      expires_at: wed(3),
    });
    const second = override({
      stream_id: STRAY.id,
      key: 'b',
      sampling_rate: 0.7,
      restore_rate: 1,
      starts_at: wed(2),
      expires_at: wed(4),
      created_at: wed(2),
    });

    expect(rateAt([], wed(2), STRAY)).toBeUndefined();
    expect(rateAt([first, second], wed(2, 30), STRAY)).toBe(0.7);
    expect(effectiveRate(BERLIN, STRAY, [first, second], wed(4))).toMatchObject({
      rate: 0.3,
      source: 'restore',
      rule: null,
    });
  });

  it('is not moved by another stream’s overrides', () => {
    const other = override({
      stream_id: 'es_other',
      sampling_rate: 0.01,
      starts_at: wed(0),
      expires_at: wed(23),
    });

    expect(rateAt([other], wed(12))).toBe(1);
  });
});

describe('effectiveRate and nextSet against the oracle, for generated policies and overrides', () => {
  const ZONES = ['Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kolkata', 'UTC'];
  // Two weeks around a transition of each zone's 2027 (or any two weeks, where there is none).
  const SPANS = [Date.UTC(2027, 2, 8), Date.UTC(2027, 3, 1), Date.UTC(2027, 9, 24)];
  const quarter = fc.integer({ min: 0, max: 95 }).map((q) => q * 15);
  const window = fc.record({
    days: fc.uniqueArray(fc.constantFrom(...DAYS), { minLength: 1, maxLength: 7 }),
    start: quarter,
    end: fc.integer({ min: 1, max: 96 }).map((q) => q * 15),
    rate: fc.constantFrom(0.01, 0.1, 0.25, 0.5),
  });
  const hhmm = (minutes: number) =>
    `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
  /** Overrides as offsets into the span: a start, a length of 1 minute to 24 hours, when set. */
  const overrideOf = fc.record({
    start: fc.integer({ min: 0, max: 13 * 24 * 60 }),
    minutes: fc.integer({ min: 1, max: 24 * 60 }),
    created: fc.integer({ min: 0, max: 1000 }),
    rate: fc.constantFrom(0.05, 0.5, 1),
    key: fc.constantFrom('manual', 'alertmanager:a', 'pagerduty:b'),
  });

  /** The definition, written out: of those that hold, the last set (then the greater key). */
  function oracleOverrideRate(overrides: Override[], instant: number): number | undefined {
    const holding = overrides
      .filter((each) => each.starts_at <= instant && instant < each.expires_at)
      .sort((a, b) => b.created_at - a.created_at || (b.key > a.key ? 1 : b.key < a.key ? -1 : 0));
    return holding[0]?.sampling_rate;
  }

  it('agree minute by minute, and the next set is never later than the next change', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ZONES),
        fc.array(window, { minLength: 1, maxLength: 3 }),
        fc.array(overrideOf, { minLength: 0, maxLength: 4 }),
        fc.constantFrom(...SPANS),
        (zone, windows, generated, spanStart) => {
          let policy: Policy;
          try {
            policy = policyOf(
              zone,
              windows.map((w) => ({ ...w, start: hhmm(w.start), end: hhmm(w.end) })),
            );
          } catch {
            return true; // overlapping or empty windows: refused by validation
          }
          const rule = policy.rules[0];
          if (!rule) return true;
          const stream = { id: 'es_gen', description: 'prod/gen' };
          const overrides: Override[] = generated.map((each, index) => ({
            stream_id: stream.id,
            key: `${each.key}:${index}`,
            sampling_rate: each.rate,
            starts_at: spanStart + each.start * MINUTE,
            expires_at: spanStart + (each.start + each.minutes) * MINUTE,
            created_at: each.created,
          }));
          const end = spanStart + 14 * DAY;
          const scheduled = oracleRates(rule, spanStart, end);
          const expected = (index: number) =>
            oracleOverrideRate(overrides, spanStart + index * MINUTE) ?? scheduled[index];
          for (let index = 0; index < scheduled.length; index++) {
            const instant = spanStart + index * MINUTE;
            const actual = effectiveRate(policy, stream, overrides, instant)?.rate;
            if (actual !== expected(index)) {
              throw new Error(
                `${zone} ${new Date(instant).toISOString()}: effective ${actual}, oracle ${expected(index)}\n${JSON.stringify({ windows, generated })}`,
              );
            }
          }
          // From a few instants: nothing changes before the next set, and it sets what holds then.
          for (const index of [0, 997, 5003, 11_111]) {
            const instant = spanStart + index * MINUTE;
            const next = nextSet(policy, stream, overrides, instant);
            const limit = next ? Math.min(next.at, end) : end;
            for (let at = instant + MINUTE; at < limit; at += MINUTE) {
              if (expected((at - spanStart) / MINUTE) !== expected(index)) {
                throw new Error(
                  `${zone}: the rate changes at ${new Date(at).toISOString()}, before the next set ${next ? new Date(next.at).toISOString() : 'none'}`,
                );
              }
            }
            if (next && next.at < end) {
              expect(next.effective.rate).toBe(expected((next.at - spanStart) / MINUTE));
            }
          }
          return true;
        },
      ),
      { numRuns: Number(process.env.FC_RUNS ?? 20), seed: Number(process.env.FC_SEED ?? 20271205) },
    );
  });
});
