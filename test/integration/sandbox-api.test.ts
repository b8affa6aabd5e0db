/**
 * The sandbox speaks the ngrok API as docs/ngrok-api.md defines it, including every row of its
 * "Decisions" table. Raw HTTP only: nothing from lib/ is used here.
 */

import { connect } from 'node:net';
import { parseJsonOrUndefined } from '../helpers/json.ts';
import { control, injectFault, requestLog, seedStreams, useSandbox } from '../helpers/sandbox.ts';

const ctx = useSandbox();

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: a JSON answer, read field by field in assertions
  json: any;
}

async function api(
  method: string,
  path: string,
  options: {
    body?: unknown;
    rawBody?: string;
    headers?: Record<string, string>;
    key?: string | null;
  } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { 'ngrok-version': '2', ...options.headers };
  if (options.key !== null) headers.authorization = `Bearer ${options.key ?? ctx.apiKey}`;
  // Bytes, not a string: fetch would add `Content-Type: text/plain` to a string body.
  let body = options.rawBody === undefined ? undefined : new TextEncoder().encode(options.rawBody);
  if (options.body !== undefined) {
    body = new TextEncoder().encode(JSON.stringify(options.body));
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(`${ctx.url}${path}`, { method, headers, body });
  const text = await response.text();
  const json = parseJsonOrUndefined(text);
  return { status: response.status, headers: response.headers, text, json };
}

function streamBody(overrides: Record<string, unknown> = {}) {
  return {
    event_type: 'http_request_complete',
    destination_ids: [ctx.destinationIds[0]],
    ...overrides,
  };
}

/** Asserts the full ngrok error shape: `{error_code?, status_code, msg, details.operation_id}`. */
function expectNgrokError(answer: Answer, status: number, errorCode?: string) {
  expect(answer.status).toBe(status);
  expect(answer.json.status_code).toBe(status);
  expect(typeof answer.json.msg).toBe('string');
  expect(answer.json.msg.length).toBeGreaterThan(0);
  expect(answer.json.details.operation_id).toMatch(/^op_[0-9A-Za-z]{27}$/);
  for (const value of Object.values(answer.json.details)) expect(typeof value).toBe('string');
  expect(answer.headers.get('ngrok-operation-id')).toBe(answer.json.details.operation_id);
  if (errorCode === undefined) expect(answer.json).not.toHaveProperty('error_code');
  else expect(answer.json.error_code).toBe(errorCode);
}

describe('Sandbox: Event Streams', () => {
  it('creates a stream with the canonical example and returns it in server field order', async () => {
    const created = await api('POST', '/event_streams', {
      body: {
        description: 'low sampling, basic HTTP logs',
        fields: ['http.request.method', 'http.response.status_code', 'conn.client_ip'],
        event_type: 'http_request_complete',
        destination_ids: [ctx.destinationIds[0]],
        metadata: '{"environment": "staging"}',
        sampling_rate: 0.1,
      },
    });

    expect(created.status).toBe(201);
    expect(Object.keys(created.json)).toEqual([
      'id',
      'uri',
      'created_at',
      'metadata',
      'description',
      'fields',
      'event_type',
      'destination_ids',
      'sampling_rate',
    ]);
    expect(created.json.id).toMatch(/^es_[0-9A-Za-z]{27}$/);
    expect(created.json.uri).toBe(`${ctx.url}/event_streams/${created.json.id}`);
    expect(created.json.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(created.json.sampling_rate).toBe(0.1);
    expect(created.headers.get('content-type')).toMatch(/^application\/json/);
    expect(created.headers.get('ngrok-operation-id')).toMatch(/^op_/);
  });

  it('gets, updates only the fields sent, and deletes with 204 and an empty body', async () => {
    const { json: stream } = await api('POST', '/event_streams', {
      body: streamBody({ description: 'before', metadata: 'm', sampling_rate: 0.5 }),
    });

    const got = await api('GET', `/event_streams/${stream.id}`);
    const patched = await api('PATCH', `/event_streams/${stream.id}`, {
      body: { description: 'after' },
    });
    const deleted = await api('DELETE', `/event_streams/${stream.id}`);
    const gone = await api('GET', `/event_streams/${stream.id}`);

    expect(got.json).toEqual(stream);
    expect(patched.status).toBe(200);
    expect(patched.json).toEqual({ ...stream, description: 'after' });
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe('');
    expectNgrokError(gone, 404);
  });

  it('accepts an empty PATCH body (the Python SDK sends {}) and changes nothing', async () => {
    const { json: stream } = await api('POST', '/event_streams', { body: streamBody() });

    const patched = await api('PATCH', `/event_streams/${stream.id}`, { body: {} });

    expect(patched.status).toBe(200);
    expect(patched.json).toEqual(stream);
  });

  it('accepts Content-Type: application/json on GET and DELETE without a body (the TypeScript SDK sends it)', async () => {
    const { json: stream } = await api('POST', '/event_streams', { body: streamBody() });
    const headers = { 'content-type': 'application/json' };

    expect((await api('GET', `/event_streams/${stream.id}`, { headers })).status).toBe(200);
    expect((await api('DELETE', `/event_streams/${stream.id}`, { headers })).status).toBe(204);
  });

  it('counts description and metadata limits in UTF-8 bytes, not characters', async () => {
    const description255 = `${'é'.repeat(127)}a`; // 255 bytes, 128 characters
    const description256 = 'é'.repeat(128); // 256 bytes, 128 characters
    const metadata4096 = `${'€'.repeat(1365)}a`; // 4096 bytes
    const metadata4097 = `${'€'.repeat(1365)}ab`;

    const ok = await api('POST', '/event_streams', {
      body: streamBody({ description: description255, metadata: metadata4096 }),
    });
    const longDescription = await api('POST', '/event_streams', {
      body: streamBody({ description: description256 }),
    });
    const longMetadata = await api('POST', '/event_streams', {
      body: streamBody({ metadata: metadata4097 }),
    });

    expect(ok.status).toBe(201);
    expect(ok.json.description).toBe(description255);
    expectNgrokError(longDescription, 400, 'ERR_NGROK_215');
    expect(longDescription.json.msg).toMatch(/256 bytes/);
    expectNgrokError(longMetadata, 400, 'ERR_NGROK_215');
  });

  it('refuses an event_type that is not one of the two stream event types', async () => {
    const wrong = await api('POST', '/event_streams', {
      body: streamBody({ event_type: 'http_request_complete.v0' }),
    });
    const missing = await api('POST', '/event_streams', {
      body: { destination_ids: [ctx.destinationIds[0]] },
    });

    expectNgrokError(wrong, 400, 'ERR_NGROK_238');
    expectNgrokError(missing, 400, 'ERR_NGROK_238');
  });

  it('creates a tcp_connection_closed stream with its own fields', async () => {
    const created = await api('POST', '/event_streams', {
      body: streamBody({
        event_type: 'tcp_connection_closed',
        fields: ['conn.bytes_in', 'conn.end_ts'],
      }),
    });

    expect(created.status).toBe(201);
    expect(created.json.fields).toEqual(['conn.bytes_in', 'conn.end_ts']);
  });
});

describe('Sandbox: the decisions table of docs/ngrok-api.md', () => {
  it('sampling_rate absent on create defaults to 1.0', async () => {
    const created = await api('POST', '/event_streams', { body: streamBody() });

    expect(created.status).toBe(201);
    expect(created.json.sampling_rate).toBe(1);
  });

  it('sampling_rate 0 on create means "not given", as the Python and Ruby SDKs send it: 1.0', async () => {
    const created = await api('POST', '/event_streams', {
      body: streamBody({ sampling_rate: 0 }),
    });

    expect(created.status).toBe(201);
    expect(created.json.sampling_rate).toBe(1);
  });

  it('sampling_rate 0 on update is refused with 400 ERR_NGROK_215, the rate unchanged', async () => {
    const { json: stream } = await api('POST', '/event_streams', {
      body: streamBody({ sampling_rate: 0.5 }),
    });

    const patched = await api('PATCH', `/event_streams/${stream.id}`, {
      body: { sampling_rate: 0 },
    });
    const after = await api('GET', `/event_streams/${stream.id}`);

    expectNgrokError(patched, 400, 'ERR_NGROK_215');
    expect(after.json.sampling_rate).toBe(0.5);
  });

  it.each([0.009, 1.01, -1, '0.5'])(
    'sampling_rate %p is refused with 400 ERR_NGROK_215',
    async (rate) => {
      const created = await api('POST', '/event_streams', {
        body: streamBody({ sampling_rate: rate }),
      });

      expectNgrokError(created, 400, 'ERR_NGROK_215');
    },
  );

  it.each([0.01, 1])('sampling_rate %p, at the bounds, is accepted', async (rate) => {
    const created = await api('POST', '/event_streams', {
      body: streamBody({ sampling_rate: rate }),
    });

    expect(created.status).toBe(201);
    expect(created.json.sampling_rate).toBe(rate);
  });

  it('an explicit null in a PATCH body is refused with 400 ERR_NGROK_215', async () => {
    const { json: stream } = await api('POST', '/event_streams', { body: streamBody() });

    const patched = await api('PATCH', `/event_streams/${stream.id}`, {
      body: { description: null },
    });

    expectNgrokError(patched, 400, 'ERR_NGROK_215');
    expect((await api('GET', `/event_streams/${stream.id}`)).json).toEqual(stream);
  });

  it('an unknown body field is refused with 400 ERR_NGROK_214', async () => {
    const created = await api('POST', '/event_streams', {
      body: streamBody({ samplingRate: 0.5 }),
    });

    expectNgrokError(created, 400, 'ERR_NGROK_214');
    expect(created.json.msg).toContain('samplingRate');
  });

  it('an unknown query parameter, beforeId included, is refused with 400 ERR_NGROK_231', async () => {
    const camel = await api('GET', '/event_streams?beforeId=es_x&limit=10');
    const other = await api('GET', '/event_streams?page=2');

    expectNgrokError(camel, 400, 'ERR_NGROK_231');
    expectNgrokError(other, 400, 'ERR_NGROK_231');
  });

  it.each(['0', '101', 'abc', '1.5', '-1', ' 5'])(
    'limit=%p is refused with 400 ERR_NGROK_233',
    async (limit) => {
      const listed = await api('GET', `/event_streams?limit=${encodeURIComponent(limit)}`);

      expectNgrokError(listed, 400, 'ERR_NGROK_233');
    },
  );

  it('a missing or malformed credential is 401 ERR_NGROK_201, an unknown key 401 ERR_NGROK_203', async () => {
    const missing = await api('GET', '/event_streams', { key: null });
    const malformed = await api('GET', '/event_streams', {
      key: null,
      headers: { authorization: 'Token abc' },
    });
    const unknown = await api('GET', '/event_streams', { key: 'not-a-key' });

    expectNgrokError(missing, 401, 'ERR_NGROK_201');
    expectNgrokError(malformed, 401, 'ERR_NGROK_201');
    expectNgrokError(unknown, 401, 'ERR_NGROK_203');
  });

  it('a missing Ngrok-Version is 400 ERR_NGROK_218, an unsupported one 400 ERR_NGROK_217', async () => {
    const response = await fetch(`${ctx.url}/event_streams`, {
      headers: { authorization: `Bearer ${ctx.apiKey}` },
    });
    const missing = {
      status: response.status,
      headers: response.headers,
      text: '',
      json: await response.json(),
    };
    const wrong = await api('GET', '/event_streams', { headers: { 'ngrok-version': '1' } });

    expectNgrokError(missing, 400, 'ERR_NGROK_218');
    expectNgrokError(wrong, 400, 'ERR_NGROK_217');
  });

  it('an unknown destination id on create or update is 400 ERR_NGROK_5103', async () => {
    const unknownId = 'ed_000000000000000000000000000';
    const created = await api('POST', '/event_streams', {
      body: streamBody({ destination_ids: [unknownId] }),
    });
    const { json: stream } = await api('POST', '/event_streams', { body: streamBody() });
    const updated = await api('PATCH', `/event_streams/${stream.id}`, {
      body: { destination_ids: [unknownId] },
    });

    expectNgrokError(created, 400, 'ERR_NGROK_5103');
    expect(created.json.msg).toContain(unknownId);
    expectNgrokError(updated, 400, 'ERR_NGROK_5103');
  });

  it('deleting a destination still used by a stream is 400 ERR_NGROK_5112; unused, it is 204', async () => {
    const [used, unused] = ctx.destinationIds;
    await api('POST', '/event_streams', { body: streamBody({ destination_ids: [used] }) });

    const refused = await api('DELETE', `/event_destinations/${used}`);
    const deleted = await api('DELETE', `/event_destinations/${unused}`);

    expectNgrokError(refused, 400, 'ERR_NGROK_5112');
    expect(deleted.status).toBe(204);
    expect((await api('GET', `/event_destinations/${used}`)).status).toBe(200);
  });

  it('event_type in a PATCH is 400 ERR_NGROK_214: it is immutable', async () => {
    const { json: stream } = await api('POST', '/event_streams', { body: streamBody() });

    const patched = await api('PATCH', `/event_streams/${stream.id}`, {
      body: { event_type: 'tcp_connection_closed' },
    });

    expectNgrokError(patched, 400, 'ERR_NGROK_214');
    expect((await api('GET', `/event_streams/${stream.id}`)).json.event_type).toBe(
      'http_request_complete',
    );
  });

  it.each([
    ['an unknown id', '/event_streams/es_000000000000000000000000000', undefined],
    ['a destination id', '/event_streams/ed_000000000000000000000000000', 'ERR_NGROK_227'],
    ['a malformed id', '/event_streams/es_x', 'ERR_NGROK_227'],
    [
      'a stream id on destinations',
      '/event_destinations/es_000000000000000000000000000',
      'ERR_NGROK_227',
    ],
  ])('%s is 404 with status_code, msg and details.operation_id', async (_, path, code) => {
    expectNgrokError(await api('GET', path), 404, code);
    expectNgrokError(await api('PATCH', path, { body: {} }), 404, code);
    expectNgrokError(await api('DELETE', path), 404, code);
  });

  it('fields are checked against the event type: unknown or of the other type is 400 ERR_NGROK_239', async () => {
    const unknown = await api('POST', '/event_streams', {
      body: streamBody({ fields: ['http.nope'] }),
    });
    const otherType = await api('POST', '/event_streams', {
      body: streamBody({ fields: ['conn.bytes_in'] }),
    });

    expectNgrokError(unknown, 400, 'ERR_NGROK_239');
    expectNgrokError(otherType, 400, 'ERR_NGROK_239');
  });

  it('"" metadata and description and [] fields are valid on create; [] destination_ids is not', async () => {
    const created = await api('POST', '/event_streams', {
      body: streamBody({ metadata: '', description: '', fields: [] }),
    });
    const noDestination = await api('POST', '/event_streams', {
      body: streamBody({ destination_ids: [] }),
    });
    const absentDestination = await api('POST', '/event_streams', {
      body: { event_type: 'http_request_complete' },
    });

    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ metadata: '', description: '', fields: [] });
    expectNgrokError(noDestination, 400, 'ERR_NGROK_215');
    expectNgrokError(absentDestination, 400, 'ERR_NGROK_215');
  });

  it('id in a PATCH body is accepted when it equals the path id, refused otherwise', async () => {
    const { json: stream } = await api('POST', '/event_streams', { body: streamBody() });

    const same = await api('PATCH', `/event_streams/${stream.id}`, {
      body: { id: stream.id, sampling_rate: 0.5 },
    });
    const other = await api('PATCH', `/event_streams/${stream.id}`, {
      body: { id: 'es_000000000000000000000000000', sampling_rate: 0.2 },
    });

    expect(same.status).toBe(200);
    expect(same.json.sampling_rate).toBe(0.5);
    expectNgrokError(other, 400, 'ERR_NGROK_215');
  });
});

describe('Sandbox: request format', () => {
  it('a body that does not parse is 400 ERR_NGROK_213; a body that is not an object too', async () => {
    const broken = await api('POST', '/event_streams', {
      rawBody: '{"event_type":',
      headers: { 'content-type': 'application/json' },
    });
    const array = await api('POST', '/event_streams', { body: [1, 2] });

    expectNgrokError(broken, 400, 'ERR_NGROK_213');
    expectNgrokError(array, 400, 'ERR_NGROK_213');
  });

  it('a body without Content-Type is 400 ERR_NGROK_216; another type 415 ERR_NGROK_210', async () => {
    const untyped = await api('POST', '/event_streams', { rawBody: JSON.stringify(streamBody()) });
    const form = await api('POST', '/event_streams', {
      rawBody: 'event_type=http_request_complete',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    const withCharset = await api('POST', '/event_streams', {
      body: streamBody(),
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });

    expectNgrokError(untyped, 400, 'ERR_NGROK_216');
    expectNgrokError(form, 415, 'ERR_NGROK_210');
    expect(withCharset.status).toBe(201);
  });

  it('a body on GET or DELETE is 400 ERR_NGROK_211', async () => {
    const { json: stream } = await api('POST', '/event_streams', { body: streamBody() });

    const deleted = await api('DELETE', `/event_streams/${stream.id}`, { body: {} });

    expectNgrokError(deleted, 400, 'ERR_NGROK_211');
    expect((await api('GET', `/event_streams/${stream.id}`)).status).toBe(200);
  });

  it('a body over 1 MiB is 413, in the ngrok error shape', async () => {
    const tooLarge = await api('POST', '/event_streams', {
      body: streamBody({ metadata: 'x'.repeat(1024 * 1024) }),
    });

    expectNgrokError(tooLarge, 413);
  });

  it('a method a resource does not have is 405; an unknown path 404', async () => {
    expectNgrokError(await api('PUT', '/event_streams', { body: {} }), 405);
    expectNgrokError(await api('GET', '/api_keys'), 404);
    expectNgrokError(await api('GET', '/event_streams/es_x/extra'), 404);
  });
});

describe('Sandbox: lists and pagination', () => {
  it('lists newest first with absolute uri and next_page_uri on the origin the request came to', async () => {
    const ids = await seedStreams(ctx.url, ctx.destinationIds[0] as string, 5);
    const localhostOrigin = ctx.url.replace('127.0.0.1', 'localhost');

    const first = await api('GET', '/event_streams?limit=2');
    const viaLocalhost = await fetch(`${localhostOrigin}/event_streams?limit=2`, {
      headers: { authorization: `Bearer ${ctx.apiKey}`, 'ngrok-version': '2' },
    }).then((response) => response.json() as Promise<Answer['json']>);

    expect(first.json.event_streams.map((s: { id: string }) => s.id)).toEqual([ids[4], ids[3]]);
    expect(first.json.uri).toBe(`${ctx.url}/event_streams`);
    expect(first.json.next_page_uri).toBe(`${ctx.url}/event_streams?before_id=${ids[3]}&limit=2`);
    expect(viaLocalhost.next_page_uri).toBe(
      `${localhostOrigin}/event_streams?before_id=${ids[3]}&limit=2`,
    );
    expect(viaLocalhost.event_streams[0].uri).toBe(`${localhostOrigin}/event_streams/${ids[4]}`);
  });

  it('following next_page_uri as-is walks every item once, then null; past the oldest is 200 []', async () => {
    const ids = await seedStreams(ctx.url, ctx.destinationIds[0] as string, 7);
    const seen: string[] = [];
    let next: string | null = `${ctx.url}/event_streams?limit=3`;

    while (next !== null) {
      const page = await api('GET', next.slice(ctx.url.length));
      seen.push(...page.json.event_streams.map((s: { id: string }) => s.id));
      next = page.json.next_page_uri;
    }
    const pastOldest = await api('GET', `/event_streams?before_id=${ids[0]}`);

    expect(seen).toEqual([...ids].reverse());
    expect(pastOldest.status).toBe(200);
    expect(pastOldest.json).toEqual({
      event_streams: [],
      uri: `${ctx.url}/event_streams`,
      next_page_uri: null,
    });
  });

  it('limit defaults to 100 and the last page has next_page_uri null', async () => {
    await seedStreams(ctx.url, ctx.destinationIds[0] as string, 101);

    const first = await api('GET', '/event_streams');
    const second = await api('GET', first.json.next_page_uri.slice(ctx.url.length));

    expect(first.json.event_streams).toHaveLength(100);
    expect(second.json.event_streams).toHaveLength(1);
    expect(second.json.next_page_uri).toBeNull();
  });

  it("with the compat switch on, the TypeScript SDK's beforeId pages like before_id", async () => {
    const ids = await seedStreams(ctx.url, ctx.destinationIds[0] as string, 3);
    await control(ctx.url, 'PATCH', '/config', { accept_before_id_camel_case: true });

    const page = await api('GET', `/event_streams?beforeId=${ids[2]}&limit=100`);

    expect(page.json.event_streams.map((s: { id: string }) => s.id)).toEqual([ids[1], ids[0]]);
  });
});

describe('Sandbox: Event Destinations', () => {
  const kinesis = {
    description: 'kinesis dev stream',
    metadata: '{"environment":"dev"}',
    format: 'json',
    target: {
      kinesis: {
        auth: { role: { role_arn: 'arn:aws:iam::123456789012:role/example' } },
        stream_arn: 'arn:ngrok-local:kinesis:us-east-2:123456789012:stream/mystream2',
      },
    },
  };

  it('creates the docs example and renders unused variants and auth branches as null', async () => {
    const created = await api('POST', '/event_destinations', { body: kinesis });

    expect(created.status).toBe(201);
    expect(Object.keys(created.json)).toEqual([
      'id',
      'metadata',
      'created_at',
      'description',
      'format',
      'target',
      'uri',
    ]);
    expect(created.json.id).toMatch(/^ed_[0-9A-Za-z]{27}$/);
    expect(created.json.target).toEqual({
      firehose: null,
      kinesis: {
        auth: { role: { role_arn: 'arn:aws:iam::123456789012:role/example' }, creds: null },
        stream_arn: 'arn:ngrok-local:kinesis:us-east-2:123456789012:stream/mystream2',
      },
      cloudwatch_logs: null,
    });
    expect(created.json.uri).toBe(`${ctx.url}/event_destinations/${created.json.id}`);
  });

  it('never echoes the AWS secret access key', async () => {
    const created = await api('POST', '/event_destinations', {
      body: {
        target: {
          firehose: {
            auth: {
              creds: { aws_access_key_id: 'AKIAEXAMPLE', aws_secret_access_key: 'very-secret' },
            },
            delivery_stream_arn: 'arn:aws:firehose:us-east-1:123456789012:deliverystream/x',
          },
        },
      },
    });
    const listed = await api('GET', '/event_destinations');

    expect(created.json.target.firehose.auth).toEqual({
      role: null,
      creds: { aws_access_key_id: 'AKIAEXAMPLE', aws_secret_access_key: null },
    });
    expect(created.text).not.toContain('very-secret');
    expect(listed.text).not.toContain('very-secret');
  });

  it.each([
    ['no target', {}, 'ERR_NGROK_5100'],
    [
      'two targets',
      { target: { ...kinesis.target, firehose: kinesis.target.kinesis } },
      'ERR_NGROK_5115',
    ],
    [
      'no auth kind',
      { target: { kinesis: { auth: {}, stream_arn: kinesis.target.kinesis.stream_arn } } },
      'ERR_NGROK_5106',
    ],
    [
      'two auth kinds',
      {
        target: {
          kinesis: {
            auth: {
              role: { role_arn: 'arn:aws:iam::1:role/x' },
              creds: { aws_access_key_id: 'a', aws_secret_access_key: 'b' },
            },
            stream_arn: kinesis.target.kinesis.stream_arn,
          },
        },
      },
      'ERR_NGROK_5116',
    ],
    [
      'a wrong ARN service',
      {
        target: {
          kinesis: {
            ...kinesis.target.kinesis,
            stream_arn: 'arn:aws:logs:us-east-1:1:log-group:x',
          },
        },
      },
      'ERR_NGROK_5119',
    ],
    [
      'a malformed ARN',
      { target: { kinesis: { ...kinesis.target.kinesis, stream_arn: 'mystream' } } },
      'ERR_NGROK_5120',
    ],
    ['format xml', { ...kinesis, format: 'xml' }, 'ERR_NGROK_235'],
  ])('refuses %s', async (_, body, code) => {
    expectNgrokError(await api('POST', '/event_destinations', { body }), 400, code);
  });

  it('updates fields partially and refuses a change of target type (ERR_NGROK_5108)', async () => {
    const { json: destination } = await api('POST', '/event_destinations', { body: kinesis });

    const renamed = await api('PATCH', `/event_destinations/${destination.id}`, {
      body: { description: 'renamed' },
    });
    const retyped = await api('PATCH', `/event_destinations/${destination.id}`, {
      body: {
        target: {
          cloudwatch_logs: {
            auth: kinesis.target.kinesis.auth,
            log_group_arn: 'arn:aws:logs:us-east-1:1:log-group:x',
          },
        },
      },
    });

    expect(renamed.json).toEqual({ ...destination, description: 'renamed' });
    expectNgrokError(retyped, 400, 'ERR_NGROK_5108');
  });

  it('lists destinations under "event_destinations", newest first', async () => {
    const listed = await api('GET', '/event_destinations');

    expect(listed.json.event_destinations.map((d: { id: string }) => d.id)).toEqual(
      [...ctx.destinationIds].reverse(),
    );
    expect(listed.json.next_page_uri).toBeNull();
  });
});

describe('Sandbox: rate limit', () => {
  it('answers the 121st request in 60 s with 429 ERR_NGROK_226 and Retry-After, per API key', async () => {
    await control(ctx.url, 'PATCH', '/config', {
      rate_limit: { limit: 120, window_seconds: 60 },
      api_keys: [ctx.apiKey, 'second-key'],
    });

    const statuses: number[] = [];
    for (let i = 0; i < 120; i++)
      statuses.push((await api('GET', '/event_streams?limit=1')).status);
    const limited = await api('GET', '/event_streams');
    const otherKey = await api('GET', '/event_streams', { key: 'second-key' });

    expect(statuses.every((status) => status === 200)).toBe(true);
    expectNgrokError(limited, 429, 'ERR_NGROK_226');
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(otherKey.status).toBe(200);
  });
});

describe('Sandbox: control surface', () => {
  it('injects a status for the next N matching requests, then answers normally', async () => {
    const { json: stream } = await api('POST', '/event_streams', { body: streamBody() });
    await injectFault(ctx.url, {
      method: 'GET',
      path: '/event_streams/*',
      status: 503,
      times: 2,
      retry_after: 3,
    });

    const first = await api('GET', `/event_streams/${stream.id}`);
    const second = await api('GET', `/event_streams/${stream.id}`);
    const unaffected = await api('GET', '/event_streams');
    const third = await api('GET', `/event_streams/${stream.id}`);

    expectNgrokError(first, 503);
    expect(first.headers.get('retry-after')).toBe('3');
    expect(second.status).toBe(503);
    expect(unaffected.status).toBe(200);
    expect(third.status).toBe(200);
  });

  it('drops the connection before acting (nothing created) or after acting (created, no answer)', async () => {
    await injectFault(ctx.url, { method: 'POST', path: '/event_streams', drop: 'before' });
    await expect(api('POST', '/event_streams', { body: streamBody() })).rejects.toThrow();
    expect((await api('GET', '/event_streams')).json.event_streams).toHaveLength(0);

    await injectFault(ctx.url, { method: 'POST', path: '/event_streams', drop: 'after' });
    await expect(api('POST', '/event_streams', { body: streamBody() })).rejects.toThrow();
    expect((await api('GET', '/event_streams')).json.event_streams).toHaveLength(1);
  });

  it('delays a matching request by delay_ms', async () => {
    await injectFault(ctx.url, { path: '/event_streams', delay_ms: 300 });

    const started = Date.now();
    const listed = await api('GET', '/event_streams');

    expect(listed.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('logs each API request with its status, and reset empties state, faults and the log', async () => {
    await api('GET', '/event_streams');
    await injectFault(ctx.url, { path: '/event_streams', status: 500 });
    expect(await requestLog(ctx.url)).toEqual([
      {
        api: 'ngrok',
        method: 'GET',
        path: '/event_streams',
        query: '',
        connection: expect.any(Number),
        body: '',
        status: 200,
      },
    ]);

    await control(ctx.url, 'POST', '/reset');

    expect(await requestLog(ctx.url)).toEqual([]);
    expect((await api('GET', '/event_destinations')).json.event_destinations).toEqual([]);
    expect((await api('GET', '/event_streams')).status).toBe(200);
  });

  it('refuses a fault it cannot carry out', async () => {
    await expect(injectFault(ctx.url, { path: 'event_streams', status: 500 })).rejects.toThrow(
      /path/,
    );
    await expect(injectFault(ctx.url, { path: '/event_streams' })).rejects.toThrow(/status/);
    await expect(injectFault(ctx.url, { path: '/event_streams', status: 700 })).rejects.toThrow(
      /status/,
    );
  });
});

describe('Sandbox: no request brings it down', () => {
  /** Sends raw bytes and resolves with what came back before the connection closed. */
  function raw(bytes: string, { closeAfterMs }: { closeAfterMs?: number } = {}) {
    const { port } = new URL(ctx.url);
    return new Promise<string>((resolve) => {
      const socket = connect(Number(port), '127.0.0.1', () => socket.write(bytes));
      let received = '';
      socket.on('data', (chunk) => {
        received += chunk;
      });
      socket.on('error', () => resolve(received));
      socket.on('close', () => resolve(received));
      if (closeAfterMs !== undefined) setTimeout(() => socket.destroy(), closeAfterMs);
    });
  }

  it('answers a path it cannot parse with 400, and a client gone mid-body ends only its request', async () => {
    const unparsable = await raw('GET // HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    await raw(
      'POST /event_streams HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"event',
      { closeAfterMs: 100 },
    );
    await raw(
      'POST /_sandbox/faults HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
      { closeAfterMs: 100 },
    );
    const after = await fetch(`${ctx.url}/_sandbox/`);

    expect(unparsable).toMatch(/^HTTP\/1\.1 400 /);
    expect(after.status).toBe(200);
  });
});
