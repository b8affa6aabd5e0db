/**
 * The Idempotency-Key's pure parts: the header, "the same request", what a retry does about a
 * key another request holds, and which stream a lost create made.
 */

import { lostCreateCandidates, madeBy } from '../../lib/http/lost-create.ts';
import { HttpProblem } from '../../lib/http/problem.ts';
import {
  decide,
  fingerprintOf,
  type KeyRecord,
  parseIdempotencyKey,
  recordId,
} from '../../lib/idempotency/key.ts';
import type { EventStream } from '../../lib/ngrok/schemas.ts';

describe('parseIdempotencyKey', () => {
  it('takes the bare value (Stripe) and the IETF draft’s quoted string as the same key', () => {
    expect(parseIdempotencyKey('8e03978e-40d5-43e8-bc93-6894a57f9324')).toBe(
      '8e03978e-40d5-43e8-bc93-6894a57f9324',
    );
    expect(parseIdempotencyKey('"8e03978e-40d5-43e8-bc93-6894a57f9324"')).toBe(
      '8e03978e-40d5-43e8-bc93-6894a57f9324',
    );
    expect(parseIdempotencyKey('"a\\"b\\\\c"')).toBe('a"b\\c');
    expect(parseIdempotencyKey(undefined)).toBeUndefined();
  });

  it('refuses with 400 naming the header what is not 1 to 255 visible ASCII characters', () => {
    for (const bad of [
      '',
      '""',
      'x'.repeat(256),
      'two words',
      'é',
      'tab\there',
      'a,b c',
      '"\u0001"',
    ]) {
      let thrown: unknown;
      try {
        parseIdempotencyKey(bad);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(HttpProblem);
      expect((thrown as HttpProblem).problem).toMatchObject({
        status: 400,
        kind: 'validation-failed',
        errors: [{ field: 'header.idempotency-key' }],
      });
    }
    expect(parseIdempotencyKey('x'.repeat(255))).toHaveLength(255);
    expect(parseIdempotencyKey('!~')).toBe('!~');
    expect(parseIdempotencyKey('"a,b"')).toBe('a,b');
  });
});

describe('fingerprintOf: the same request', () => {
  it('is the same for the same body however its keys are ordered, and differs for another', () => {
    const a = fingerprintOf({ event_type: 'x', destination_ids: ['ed_1'], sampling_rate: 0.5 });
    const b = fingerprintOf({ sampling_rate: 0.5, destination_ids: ['ed_1'], event_type: 'x' });

    expect(a).toBe(b);
    expect(
      fingerprintOf({ event_type: 'x', destination_ids: ['ed_1'], sampling_rate: 0.25 }),
    ).not.toBe(a);
    expect(fingerprintOf({ destination_ids: ['ed_1', 'ed_2'] })).not.toBe(
      fingerprintOf({ destination_ids: ['ed_2', 'ed_1'] }),
    );
  });
});

describe('recordId', () => {
  it('keeps keys apart per route and per caller', () => {
    expect(recordId('POST /event-streams', 'ci', 'k')).not.toBe(
      recordId('POST /event-streams', 'ops', 'k'),
    );
    const ids = ['a', 'a b', 'a"', 'a\\'].flatMap((caller) =>
      ['b', '"b', 'c'].map((key) => recordId('POST /event-streams', caller, key)),
    );
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('decide: what a request does about a key another one holds', () => {
  const now = Date.UTC(2026, 11, 5, 12);
  const record = (fields: Partial<KeyRecord>): KeyRecord => ({
    id: 'id',
    fingerprint: 'f',
    state: 'in_progress',
    attempt: 'a',
    startedAt: now - 1000,
    inFlightUntil: now + 40_000,
    expiresAt: now / 1000 + 86_400,
    ...fields,
  });
  const response = { statusCode: 201, headers: {}, body: '{}' };
  const SETTLE = 30_000;

  it('replays a completed request with the same body', () => {
    expect(decide(record({ state: 'completed', response }), 'f', now, SETTLE)).toEqual({
      kind: 'replay',
      response,
    });
  });

  it('refuses another body, whatever the state', () => {
    for (const state of ['in_progress', 'unknown', 'completed'] as const) {
      expect(decide(record({ state, response }), 'other', now, SETTLE)).toEqual({ kind: 'reused' });
    }
  });

  it('asks to come back in a second while the first runs, and when a lost one is settled', () => {
    expect(decide(record({ state: 'in_progress' }), 'f', now, SETTLE)).toEqual({
      kind: 'wait',
      retryAfterSeconds: 1,
    });
    expect(
      decide(record({ state: 'unknown', inFlightUntil: now + 12_300 }), 'f', now, SETTLE),
    ).toEqual({
      kind: 'wait',
      retryAfterSeconds: 13,
    });
  });

  it('waits out a running attempt whose function died (past its deadline) in one go, not second by second', () => {
    // Its deadline was 5 s ago; ngrok may act on its request for 25 s more.
    expect(
      decide(
        record({ state: 'in_progress', inFlightUntil: now + SETTLE - 5000 }),
        'f',
        now,
        SETTLE,
      ),
    ).toEqual({ kind: 'wait', retryAfterSeconds: 25 });
  });

  it('recovers once an attempt is over without an answer: lost, or its function gone', () => {
    expect(decide(record({ state: 'unknown', inFlightUntil: now }), 'f', now, SETTLE)).toEqual({
      kind: 'recover',
    });
    expect(
      decide(record({ state: 'in_progress', inFlightUntil: now - 1 }), 'f', now, SETTLE),
    ).toEqual({
      kind: 'recover',
    });
  });
});

describe('lostCreateCandidates: the streams a create whose answer was lost may have made', () => {
  const since = Date.parse('2026-12-05T12:00:00.700Z');
  const body = {
    event_type: 'http_request_complete' as const,
    destination_ids: ['ed_1', 'ed_2'],
    fields: ['status', 'path'],
    description: 'prod',
    metadata: '{"team":"a"}',
    sampling_rate: 0.5,
  };
  const stream = (
    id: string,
    created_at: string,
    fields: Partial<EventStream> = {},
  ): EventStream => ({
    id,
    uri: `https://api.ngrok.com/event_streams/${id}`,
    created_at,
    metadata: body.metadata,
    description: body.description,
    fields: ['path', 'status'],
    event_type: body.event_type,
    destination_ids: ['ed_2', 'ed_1'],
    sampling_rate: 0.5,
    ...fields,
  });

  const until = Date.parse('2026-12-05T12:00:40.700Z');
  const ids = (streams: EventStream[]) =>
    lostCreateCandidates(streams, body, { since, until }).map((each) => each.id);

  it('lists the matching streams made while ngrok could act on the lost create, oldest first (ngrok lists newest first)', () => {
    const streams = [
      stream('es_after', '2026-12-05T12:00:43Z'),
      stream('es_later', '2026-12-05T12:00:09Z'),
      stream('es_made', '2026-12-05T12:00:01Z'),
      stream('es_before', '2026-12-05T11:59:50Z'),
    ];

    expect(ids(streams)).toEqual(['es_made', 'es_later']);
  });

  it('counts whole seconds and a little clock difference at both ends', () => {
    expect(ids([stream('es_same_second', '2026-12-05T12:00:00Z')])).toEqual(['es_same_second']);
    expect(ids([stream('es_skew', '2026-12-05T11:59:58Z')])).toEqual(['es_skew']);
    expect(ids([stream('es_old', '2026-12-05T11:59:57Z')])).toEqual([]);
    expect(ids([stream('es_end', '2026-12-05T12:00:42Z')])).toEqual(['es_end']);
    expect(ids([stream('es_too_late', '2026-12-05T12:00:43Z')])).toEqual([]);
  });

  it('matches on every field the create set, with ngrok’s defaults for what it left out', () => {
    const at = '2026-12-05T12:00:01Z';
    for (const different of [
      { event_type: 'tcp_connection_closed' },
      { destination_ids: ['ed_1'] },
      { fields: ['status'] },
      { description: 'prod ' },
      { metadata: '' },
      { sampling_rate: 0.51 },
    ]) {
      expect(ids([stream('es_x', at, different)])).toEqual([]);
    }
    const minimal = { event_type: 'http_request_complete' as const, destination_ids: ['ed_1'] };
    expect(
      madeBy(
        stream('es_y', at, {
          destination_ids: ['ed_1'],
          description: '',
          metadata: '',
          sampling_rate: 1,
          fields: ['anything', 'ngrok', 'chose'],
        }),
        minimal,
      ),
    ).toBe(true);
    expect(
      madeBy(stream('es_z', at, { destination_ids: ['ed_1'], sampling_rate: 1 }), minimal),
    ).toBe(false);
  });
});
