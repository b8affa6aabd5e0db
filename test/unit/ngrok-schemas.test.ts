import { EventStreamCreate, EventStreamUpdate, eventStreamId } from '../../lib/ngrok/schemas.ts';

const valid = {
  event_type: 'http_request_complete',
  destination_ids: ['ed_1ro7aG1J2tGT6neX0PHJLTuzQ9E'],
};

function issuePaths(result: { success: boolean; error?: { issues: { path: PropertyKey[] }[] } }) {
  return result.error?.issues.map((issue) => issue.path.join('.')) ?? [];
}

describe('Schema: EventStreamCreate', () => {
  it('accepts the canonical example', () => {
    const result = EventStreamCreate.safeParse({
      ...valid,
      description: 'low sampling, basic HTTP logs',
      fields: ['http.request.method', 'http.response.status_code', 'conn.client_ip'],
      metadata: '{"environment": "staging"}',
      sampling_rate: 0.1,
    });

    expect(result.success).toBe(true);
  });

  it('counts description in UTF-8 bytes: 255 multibyte bytes pass, 256 fail', () => {
    const at255 = EventStreamCreate.safeParse({ ...valid, description: `${'é'.repeat(127)}a` });
    const at256 = EventStreamCreate.safeParse({ ...valid, description: 'é'.repeat(128) });

    expect(at255.success).toBe(true);
    expect(issuePaths(at256)).toEqual(['description']);
    expect(at256.error?.issues[0]?.message).toBe('must be at most 255 bytes of UTF-8');
  });

  it('counts metadata in UTF-8 bytes: 4096 pass, 4097 fail', () => {
    expect(
      EventStreamCreate.safeParse({ ...valid, metadata: `${'€'.repeat(1365)}a` }).success,
    ).toBe(true);
    expect(
      issuePaths(EventStreamCreate.safeParse({ ...valid, metadata: `${'€'.repeat(1365)}ab` })),
    ).toEqual(['metadata']);
  });

  it.each([0.009, 1.01, 0, Number.NaN])('refuses sampling_rate %p', (rate) => {
    expect(issuePaths(EventStreamCreate.safeParse({ ...valid, sampling_rate: rate }))).toEqual([
      'sampling_rate',
    ]);
  });

  it('refuses unknown fields, an empty destination list and an unknown event type', () => {
    expect(EventStreamCreate.safeParse({ ...valid, samplingRate: 0.5 }).success).toBe(false);
    expect(issuePaths(EventStreamCreate.safeParse({ ...valid, destination_ids: [] }))).toEqual([
      'destination_ids',
    ]);
    expect(issuePaths(EventStreamCreate.safeParse({ ...valid, event_type: 'x' }))).toEqual([
      'event_type',
    ]);
  });
});

describe('Schema: EventStreamUpdate', () => {
  it('refuses event_type: it is immutable', () => {
    expect(EventStreamUpdate.safeParse({ event_type: 'tcp_connection_closed' }).success).toBe(
      false,
    );
  });

  it('accepts any subset of the updatable fields', () => {
    expect(EventStreamUpdate.safeParse({ sampling_rate: 0.5 }).success).toBe(true);
    expect(EventStreamUpdate.safeParse({ description: '', fields: [] }).success).toBe(true);
  });
});

describe('Schema: eventStreamId', () => {
  it.each(['es_1ro7aBEJQkcfUBNX1r3IBSqjDU8', 'es_a'])('accepts %p', (id) => {
    expect(eventStreamId.safeParse(id).success).toBe(true);
  });

  it.each([
    'es_x/../../api_keys',
    'es_x%2F..',
    'ed_1ro7aG1J2tGT6neX0PHJLTuzQ9E',
    'es_',
    'es_a b',
    'es_a\n',
  ])('refuses %p', (id) => {
    expect(eventStreamId.safeParse(id).success).toBe(false);
  });
});
