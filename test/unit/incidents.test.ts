/**
 * The pure parts of the alert webhooks: the policy's incidents section (every refusal, with
 * where), which alerts match which incidents, alert instants compared as instants, and
 * PagerDuty's signature.
 */
import { alertKey, instantKey } from '../../lib/incidents/alertmanager.ts';
import { alertIncidents, pagerDutyIncidents, selects } from '../../lib/incidents/match.ts';
import { pagerDutySignature, verifyPagerDutySignature } from '../../lib/incidents/pagerduty.ts';
import { type PolicyError, validatePolicy } from '../../lib/sampling/policy.ts';

const RULES = [{ name: 'web', streams: { description_prefix: 'web/' }, default_rate: 1 }];

const incident = (more: Record<string, unknown> = {}) => ({
  name: 'checkout',
  when: { alertmanager: { labels: { service: 'checkout', severity: 'critical' } } },
  streams: { description_prefix: 'prod/checkout/' },
  sampling_rate: 1,
  max_duration: 'PT6H',
  ...more,
});

function issues(incidents: unknown[]): string[] {
  try {
    validatePolicy({ timezone: 'UTC', rules: RULES, incidents });
  } catch (error) {
    return (error as PolicyError).issues.map((each) => `${each.path.join('.')}: ${each.message}`);
  }
  return [];
}

describe('the policy’s incidents', () => {
  it('are normalised: max_duration in ms, a missing trigger as null', () => {
    const policy = validatePolicy({ timezone: 'UTC', rules: RULES, incidents: [incident()] });

    expect(policy.incidents).toEqual([
      {
        name: 'checkout',
        when: {
          alertmanager: { labels: { service: 'checkout', severity: 'critical' } },
          pagerduty: null,
        },
        streams: { ids: [], description_prefix: 'prod/checkout/' },
        sampling_rate: 1,
        max_duration_ms: 6 * 3_600_000,
      },
    ]);
    expect(validatePolicy({ timezone: 'UTC', rules: RULES }).incidents).toEqual([]);
  });

  it('refuses each mistake, saying where', () => {
    expect(issues([incident(), incident()])).toEqual([
      "incidents.1.name: 'checkout' is already the name of incidents[0]",
    ]);
    expect(issues([incident({ when: {} })])).toEqual([
      'incidents.0.when: must name alertmanager labels, pagerduty service_ids or both',
    ]);
    expect(issues([incident({ streams: {} })])).toEqual([
      'incidents.0.streams: must select streams: ids, description_prefix or both',
    ]);
    expect(issues([incident({ max_duration: 'PT30S' })])).toEqual([
      'incidents.0.max_duration: must be at least 1 minute (PT1M)',
    ]);
    expect(issues([incident({ max_duration: 'P31D' })])).toEqual([
      'incidents.0.max_duration: must be at most 720 hours',
    ]);
    expect(issues([incident({ max_duration: '6h' })])[0]).toContain('ISO 8601 duration');
    expect(issues([incident({ sampling_rate: 2 })])[0]).toBe(
      'incidents.0.sampling_rate: must be at most 1',
    );
    expect(issues([incident({ when: { pagerduty: { service_ids: ['abc'] } } })])[0]).toContain(
      'PagerDuty service id',
    );
    expect(issues([incident({ when: { alertmanager: { labels: {} } } })])[0]).toContain(
      'at least one label',
    );
    expect(issues([incident({ when: { alertmanager: { labels: { code: 500 } } } })])[0]).toContain(
      'must be a string',
    );
  });
});

describe('matching', () => {
  const policy = validatePolicy({
    timezone: 'UTC',
    rules: RULES,
    incidents: [
      incident(),
      incident({
        name: 'any-critical',
        when: {
          alertmanager: { labels: { severity: 'critical' } },
          pagerduty: { service_ids: ['PABC123'] },
        },
      }),
    ],
  });

  it('an alert matches every incident whose labels are a subset of its own', () => {
    const labels = { alertname: 'X', service: 'checkout', severity: 'critical', pod: 'a' };
    expect(alertIncidents(policy, labels).map((each) => each.name)).toEqual([
      'checkout',
      'any-critical',
    ]);
    expect(alertIncidents(policy, { service: 'checkout', severity: 'warning' })).toEqual([]);
    expect(alertIncidents(policy, { service: 'checkout' })).toEqual([]);
    // A label named like an Object.prototype member is a label, nothing more.
    expect(alertIncidents(policy, { constructor: 'x', severity: 'critical' })).toHaveLength(1);
  });

  it('a PagerDuty incident matches by its service', () => {
    expect(pagerDutyIncidents(policy, 'PABC123').map((each) => each.name)).toEqual([
      'any-critical',
    ]);
    expect(pagerDutyIncidents(policy, 'PZZZ')).toEqual([]);
  });

  it('an incident selects streams by id or by description prefix', () => {
    const selector = { ids: ['es_1'], description_prefix: 'prod/checkout/' };
    expect(selects(selector, { id: 'es_1', description: 'other' })).toBe(true);
    expect(selects(selector, { id: 'es_2', description: 'prod/checkout/eu' })).toBe(true);
    expect(selects(selector, { id: 'es_3', description: 'prod/checkoutx' })).toBe(false);
  });
});

describe('alert instants', () => {
  it('compare as instants: nanoseconds, trailing zeros and offsets do not matter', () => {
    const key = '2026-12-05T09:00:00.1234Z';
    expect(instantKey('2026-12-05T09:00:00.1234Z')).toBe(key);
    expect(instantKey('2026-12-05T09:00:00.123400000Z')).toBe(key);
    expect(instantKey('2026-12-05T10:00:00.1234+01:00')).toBe(key);
    expect(instantKey('2026-12-05T09:00:00Z')).toBe('2026-12-05T09:00:00Z');
    expect(instantKey('2026-12-05T09:00:00.000Z')).toBe('2026-12-05T09:00:00Z');
    expect(instantKey('2026-12-05T09:00:00.123456789Z')).toBe('2026-12-05T09:00:00.123456789Z');
    expect(instantKey('2026-12-05T09:00:00')).toBeUndefined();
    expect(instantKey('0001-01-01T00:00:00Z')).toBe('0001-01-01T00:00:00Z');
    expect(alertKey({ fingerprint: 'abc', startsAt: '2026-12-05T10:00:00+01:00' })).toBe(
      'alertmanager:abc:2026-12-05T09:00:00Z',
    );
  });
});

describe('PagerDuty’s signature', () => {
  const body = Buffer.from('{"event":{"id":"1"}}');

  it('passes when one v1 signature of several matches one secret', () => {
    const header = `v1=${'0'.repeat(64)}, ${pagerDutySignature('old', body)}`;
    expect(verifyPagerDutySignature({ secrets: ['new', 'old'], header, rawBody: body })).toEqual({
      ok: true,
    });
  });

  it('refuses what does not match, with a reason for the log only', () => {
    const verdict = (header: string | undefined, secrets = ['s']) =>
      verifyPagerDutySignature({ secrets, header, rawBody: body });
    expect(verdict(undefined)).toEqual({ ok: false, reason: 'no X-PagerDuty-Signature' });
    expect(verdict(pagerDutySignature('s', body), [])).toMatchObject({ ok: false });
    expect(verdict(pagerDutySignature('t', body))).toMatchObject({ ok: false });
    expect(verdict('sha256=abc')).toMatchObject({ ok: false });
    expect(verdict(pagerDutySignature('s', Buffer.from('other')))).toMatchObject({ ok: false });
  });
});
