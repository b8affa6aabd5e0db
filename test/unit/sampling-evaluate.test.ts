/**
 * The schedule's evaluator: which rule governs a stream, the rate at an instant, the next
 * change, at the daylight-saving transitions of 2027 in Europe/Berlin, America/New_York and
 * Australia/Lord_Howe (a 30-minute shift).
 */
import {
  governingRule,
  isBoundary,
  nextChange,
  rateAt,
  sameRate,
} from '../../lib/sampling/evaluate.ts';
import { type Policy, validatePolicy } from '../../lib/sampling/policy.ts';

const at = (iso: string) => Date.parse(iso);

function ruleOf(timezone: string, windows: unknown[], extra: Record<string, unknown> = {}) {
  const policy = validatePolicy({
    timezone,
    rules: [
      { name: 'r', streams: { description_prefix: 'p' }, default_rate: 1, windows, ...extra },
    ],
  });
  return policy.rules[0] as Policy['rules'][number];
}

const weeknights = {
  days: ['mon', 'tue', 'wed', 'thu', 'fri'],
  start: '22:00',
  end: '06:00',
  rate: 0.1,
};
const weekend = { days: ['sat', 'sun'], start: '00:00', end: '24:00', rate: 0.05 };

describe('rateAt: windows', () => {
  const rule = ruleOf('Europe/Berlin', [weeknights]);

  it('holds on [start, end): the rate changes at start and back at end', () => {
    // Wednesday 2027-06-16, CEST (+02:00).
    expect(rateAt(rule, at('2027-06-16T19:59:59Z')).rate).toBe(1);
    expect(rateAt(rule, at('2027-06-16T20:00:00Z')).rate).toBe(0.1);
    expect(rateAt(rule, at('2027-06-17T03:59:59Z')).rate).toBe(0.1);
    expect(rateAt(rule, at('2027-06-17T04:00:00Z')).rate).toBe(1);
  });

  it('gives a window that crosses midnight to its start day: Friday 22:00 covers Saturday 03:00', () => {
    // Friday 2027-06-18 22:00 CEST is 20:00Z; Saturday 03:00 CEST is 01:00Z.
    expect(rateAt(rule, at('2027-06-19T01:00:00Z')).rate).toBe(0.1);
    expect(rateAt(rule, at('2027-06-19T04:00:00Z')).rate).toBe(1); // Saturday 06:00
    // Sunday 22:00 starts no weeknight: Monday 03:00 has the default rate.
    expect(rateAt(rule, at('2027-06-21T01:00:00Z')).rate).toBe(1);
  });

  it('ends a 24:00 window at the end of the day', () => {
    const rule = ruleOf('Europe/Berlin', [weekend]);
    // Sunday 2027-06-20 23:59 CEST = 21:59Z → weekend; Monday 00:00 = 22:00Z → default.
    expect(rateAt(rule, at('2027-06-20T21:59:00Z')).rate).toBe(0.05);
    expect(rateAt(rule, at('2027-06-20T22:00:00Z')).rate).toBe(1);
  });

  it('wraps the week: a Sunday window across midnight covers Monday morning', () => {
    const sunday = ruleOf('UTC', [{ days: ['sun'], start: '22:00', end: '06:00', rate: 0.2 }]);

    expect(rateAt(sunday, at('2027-06-21T05:59:00Z')).rate).toBe(0.2); // Monday
    expect(rateAt(sunday, at('2027-06-21T06:00:00Z')).rate).toBe(1);
    expect(rateAt(sunday, at('2027-06-20T21:59:00Z')).rate).toBe(1); // Sunday before it
  });

  it('names the window that holds, or null for the default rate', () => {
    const named = ruleOf('UTC', [
      { name: 'night', days: ['mon'], start: '00:00', end: '06:00', rate: 0.5 },
    ]);

    expect(rateAt(named, at('2027-06-21T01:00:00Z')).window?.name).toBe('night');
    expect(rateAt(named, at('2027-06-21T07:00:00Z')).window).toBeNull();
  });
});

describe('rateAt: daylight saving, 2027', () => {
  const daily = (start: string, end: string) => ({
    days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'],
    start,
    end,
    rate: 0.25,
  });

  it('Europe/Berlin spring: a 02:30 boundary takes effect at the end of the gap (03:00 CEST)', () => {
    const rule = ruleOf('Europe/Berlin', [daily('02:30', '05:00')]);

    // 2027-03-28: 02:00 CET jumps to 03:00 CEST at 01:00Z.
    expect(rateAt(rule, at('2027-03-28T00:59:59Z')).rate).toBe(1);
    expect(rateAt(rule, at('2027-03-28T01:00:00Z')).rate).toBe(0.25);
    expect(nextChange(rule, at('2027-03-27T23:00:00Z'))?.at).toBe(at('2027-03-28T01:00:00Z'));
    // The day before and after: 02:30 local as usual.
    expect(rateAt(rule, at('2027-03-27T01:29:00Z')).rate).toBe(1);
    expect(rateAt(rule, at('2027-03-27T01:30:00Z')).rate).toBe(0.25);
    expect(rateAt(rule, at('2027-03-29T00:30:00Z')).rate).toBe(0.25);
  });

  it('Europe/Berlin autumn: a 02:30 boundary takes effect at its first occurrence only', () => {
    const rule = ruleOf('Europe/Berlin', [daily('02:30', '05:00')]);

    // 2027-10-31: 03:00 CEST goes back to 02:00 CET at 01:00Z; 02:30 is 00:30Z, then 01:30Z.
    expect(rateAt(rule, at('2027-10-31T00:29:59Z')).rate).toBe(1);
    expect(rateAt(rule, at('2027-10-31T00:30:00Z')).rate).toBe(0.25);
    expect(rateAt(rule, at('2027-10-31T01:15:00Z')).rate).toBe(0.25); // 02:15 CET, second time
    expect(rateAt(rule, at('2027-10-31T03:59:59Z')).rate).toBe(0.25); // 04:59 CET
    expect(rateAt(rule, at('2027-10-31T04:00:00Z')).rate).toBe(1);
  });

  it('Europe/Berlin autumn: a window ending at 02:30 ends at the first 02:30', () => {
    const rule = ruleOf('Europe/Berlin', [daily('01:00', '02:30')]);

    expect(rateAt(rule, at('2027-10-31T00:29:00Z')).rate).toBe(0.25);
    expect(rateAt(rule, at('2027-10-31T00:30:00Z')).rate).toBe(1);
    expect(rateAt(rule, at('2027-10-31T01:10:00Z')).rate).toBe(1); // 02:10 CET, second time
  });

  it('America/New_York spring: 02:30 on 2027-03-14 takes effect at 03:00 EDT', () => {
    const rule = ruleOf('America/New_York', [daily('02:30', '04:00')]);

    expect(rateAt(rule, at('2027-03-14T06:59:59Z')).rate).toBe(1);
    expect(rateAt(rule, at('2027-03-14T07:00:00Z')).rate).toBe(0.25);
    expect(rateAt(rule, at('2027-03-14T08:00:00Z')).rate).toBe(1); // 04:00 EDT
  });

  it('America/New_York autumn: 02:30 exists once on 2027-11-07; 01:30 takes its first occurrence', () => {
    const late = ruleOf('America/New_York', [daily('02:30', '04:00')]);
    const early = ruleOf('America/New_York', [daily('01:30', '04:00')]);

    expect(rateAt(late, at('2027-11-07T07:29:59Z')).rate).toBe(1);
    expect(rateAt(late, at('2027-11-07T07:30:00Z')).rate).toBe(0.25); // 02:30 EST
    expect(rateAt(early, at('2027-11-07T05:29:59Z')).rate).toBe(1);
    expect(rateAt(early, at('2027-11-07T05:30:00Z')).rate).toBe(0.25); // 01:30 EDT, first
    expect(rateAt(early, at('2027-11-07T06:00:00Z')).rate).toBe(0.25); // 01:00 EST, repeated
  });

  it('Australia/Lord_Howe: 30-minute shifts both ways', () => {
    const spring = ruleOf('Australia/Lord_Howe', [daily('02:15', '05:00')]);
    const autumn = ruleOf('Australia/Lord_Howe', [daily('01:45', '05:00')]);

    // 2027-10-03 02:00 LHST (+10:30) jumps to 02:30 LHDT (+11) at 15:30Z on the 2nd.
    expect(rateAt(spring, at('2027-10-02T15:29:59Z')).rate).toBe(1);
    expect(rateAt(spring, at('2027-10-02T15:30:00Z')).rate).toBe(0.25);
    // 2027-04-04 02:00 LHDT goes back to 01:30 LHST; 01:45 is 14:45Z, then 15:15Z.
    expect(rateAt(autumn, at('2027-04-03T14:44:59Z')).rate).toBe(1);
    expect(rateAt(autumn, at('2027-04-03T14:45:00Z')).rate).toBe(0.25);
    expect(rateAt(autumn, at('2027-04-03T15:15:00Z')).rate).toBe(0.25);
  });

  it('drops a window that lies wholly inside a gap that day', () => {
    const rule = ruleOf('Europe/Berlin', [daily('02:10', '02:50')]);

    expect(rateAt(rule, at('2027-03-28T01:00:00Z')).rate).toBe(1);
    expect(rateAt(rule, at('2027-03-29T00:20:00Z')).rate).toBe(0.25); // the next day, 02:20 CEST
  });
});

describe('isBoundary: the scheduled times the boundary run accepts', () => {
  const rule = ruleOf('Europe/Berlin', [
    { days: ['sun'], start: '02:30', end: '05:00', rate: 0.5 },
  ]);

  it('accepts the instant a boundary takes effect, and the second occurrence of its local time', () => {
    expect(isBoundary(rule, at('2027-10-31T00:30:00Z'))).toBe(true);
    expect(isBoundary(rule, at('2027-10-31T01:30:00Z'))).toBe(true);
    expect(isBoundary(rule, at('2027-03-28T01:00:00Z'))).toBe(true); // the end of the gap
    expect(isBoundary(rule, at('2027-10-31T04:00:00Z'))).toBe(true); // 05:00 CET, the end
  });

  it('refuses another time, and another day at the same time', () => {
    expect(isBoundary(rule, at('2027-10-31T02:30:00Z'))).toBe(false);
    expect(isBoundary(rule, at('2027-10-30T00:30:00Z'))).toBe(false); // Saturday 02:30
  });
});

describe('nextChange: when the schedule next sets a stream', () => {
  it('is the next boundary, with the rate from then on', () => {
    const rule = ruleOf('Europe/Berlin', [weeknights]);

    expect(nextChange(rule, at('2027-06-16T12:00:00Z'))).toMatchObject({
      at: at('2027-06-16T20:00:00Z'),
      rate: 0.1,
    });
    expect(nextChange(rule, at('2027-06-16T20:00:00Z'))).toMatchObject({
      at: at('2027-06-17T04:00:00Z'),
      rate: 1,
      window: null,
    });
    // Friday night's window ends Saturday 06:00; the next start is Monday 22:00.
    expect(nextChange(rule, at('2027-06-19T05:00:00Z'))?.at).toBe(at('2027-06-21T20:00:00Z'));
  });

  it('is undefined for a rule without windows', () => {
    expect(nextChange(ruleOf('UTC', []), at('2027-06-16T12:00:00Z'))).toBeUndefined();
  });
});

describe('governingRule: the most specific rule', () => {
  const policy = validatePolicy({
    timezone: 'UTC',
    rules: [
      { name: 'all-prod', streams: { description_prefix: 'prod/' }, default_rate: 1 },
      { name: 'prod-api', streams: { description_prefix: 'prod/api/' }, default_rate: 0.5 },
      { name: 'pinned', streams: { ids: ['es_pinned1'] }, default_rate: 0.2 },
    ],
  });
  const govern = (id: string, description: string) =>
    governingRule(policy, { id, description })?.name;

  it('prefers an id to any prefix, and a longer prefix to a shorter one', () => {
    expect(govern('es_pinned1', 'prod/api/x')).toBe('pinned');
    expect(govern('es_other1', 'prod/api/x')).toBe('prod-api');
    expect(govern('es_other1', 'prod/web')).toBe('all-prod');
  });

  it('leaves streams no rule selects to themselves', () => {
    expect(govern('es_other1', 'staging/api')).toBeUndefined();
  });
});

describe('sameRate', () => {
  it('compares with a tolerance', () => {
    expect(sameRate(0.1 + 0.2, 0.3)).toBe(true);
    expect(sameRate(0.3, 0.31)).toBe(false);
  });
});
