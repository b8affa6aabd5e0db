/** How long an override lasts, as HTTP (ISO 8601) and Slack (`1h30m`) callers write it. */
import fc from 'fast-check';
import {
  formatDuration,
  parseIsoDuration,
  parseShortDuration,
} from '../../lib/sampling/duration.ts';

const MIN = 60_000;

describe('parseIsoDuration', () => {
  it.each([
    ['PT30M', 30 * MIN],
    ['PT2H', 120 * MIN],
    ['P1D', 1440 * MIN],
    ['P1DT2H30M', (1440 + 150) * MIN],
    ['PT1.5H', 90 * MIN],
    ['PT90S', 1.5 * MIN],
  ])('%s', (text, ms) => {
    expect(parseIsoDuration(text)).toEqual({ ms });
  });

  it.each([
    ['', 'ISO 8601 duration'],
    ['P', 'ISO 8601 duration'],
    ['PT', 'ISO 8601 duration'],
    ['2h', 'ISO 8601 duration'],
    ['pt2h', 'ISO 8601 duration'],
    ['PT-1H', 'ISO 8601 duration'],
    ['P1Y', 'no fixed length'],
    ['P1M', 'no fixed length'],
    ['P2W', 'no fixed length'],
    ['PT0M', 'longer than nothing'],
  ])('refuses %j, saying why', (text, why) => {
    expect(parseIsoDuration(text)).toEqual({ invalid: expect.stringContaining(why) });
  });
});

describe('parseShortDuration', () => {
  it.each([
    ['30m', 30 * MIN],
    ['2h', 120 * MIN],
    ['1h30m', 90 * MIN],
    ['1d', 1440 * MIN],
    ['1D2H', (1440 + 120) * MIN],
  ])('%s', (text, ms) => {
    expect(parseShortDuration(text)).toEqual({ ms });
  });

  it.each(['', '0m', '30', 'm', '1.5h', '30m1h', '2 h', 'PT2H', '-1h'])('refuses %j', (text) => {
    expect(parseShortDuration(text)).toEqual({ invalid: expect.any(String) });
  });

  it('reads back what formatDuration writes, and never throws', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 * 1440 }), (minutes) => {
        const written = formatDuration(minutes * MIN).replace(/ /g, '');
        expect(parseShortDuration(written)).toEqual({ ms: minutes * MIN });
      }),
      { numRuns: 300, seed: 11 },
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), (text) => {
        const parsed = parseShortDuration(text);
        expect('ms' in parsed || 'invalid' in parsed).toBe(true);
      }),
      { numRuns: 300, seed: 12 },
    );
  });
});
