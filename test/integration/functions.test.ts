/**
 * The five Event Streams functions, invoked in-process with API Gateway v2 events, against the
 * sandbox over real HTTP: the real Secrets Manager client reads the service's secret from it and
 * the ngrok client talks to its emulated API.
 */

import { handler as createEventStream } from '../../functions/createEventStream.ts';
import { handler as deleteEventStream } from '../../functions/deleteEventStream.ts';
import { handler as getEventStream } from '../../functions/getEventStream.ts';
import { handler as listEventDestinations } from '../../functions/listEventDestinations.ts';
import { handler as listEventStreams } from '../../functions/listEventStreams.ts';
import { handler as updateEventStream } from '../../functions/updateEventStream.ts';
import { clearServiceSecretCache } from '../../lib/secrets/service-secret.ts';
import {
  type Answer,
  apiEvent,
  configureService,
  invoke,
  lambdaContext,
  SECRET_NAME,
  type ServiceTokens,
  storeServiceSecret,
} from '../helpers/lambda.ts';
import { serviceLogs } from '../helpers/logs.ts';
import { control, injectFault, requestLog, seedStreams, useSandbox } from '../helpers/sandbox.ts';

const ctx = useSandbox();
let tokens: ServiceTokens;
const savedEnv = { ...process.env };

beforeEach(async () => {
  clearServiceSecretCache();
  tokens = await configureService(ctx.url, ctx.apiKey, ctx.sandbox.awsCredentials);
});
afterAll(() => {
  process.env = savedEnv;
});

const PROBLEM = 'tag:ngrok-event-streams-automation,2026:problem:';

function expectProblem(answer: Answer, status: number, kind: string) {
  expect(answer.status).toBe(status);
  expect(answer.headers['content-type']).toBe('application/problem+json');
  expect(answer.json).toMatchObject({ type: `${PROBLEM}${kind}`, status });
  expect(typeof answer.json.title).toBe('string');
  expect(typeof answer.json.detail).toBe('string');
  expect(answer.body).not.toMatch(/at .+\.ts:\d+|127\.0\.0\.1|Error:/);
}

function create(body: unknown, token = tokens.write) {
  return invoke(
    createEventStream,
    apiEvent({ method: 'POST', route: '/event-streams', body, token }),
  );
}

function get(id: string, token = tokens.read) {
  return invoke(
    getEventStream,
    apiEvent({ method: 'GET', route: '/event-streams/{id}', pathParameters: { id }, token }),
  );
}

function list(query: Record<string, string> = {}, token = tokens.read) {
  return invoke(
    listEventStreams,
    apiEvent({ method: 'GET', route: '/event-streams', query, token }),
  );
}

function update(id: string, body: unknown, token = tokens.write) {
  return invoke(
    updateEventStream,
    apiEvent({
      method: 'PATCH',
      route: '/event-streams/{id}',
      pathParameters: { id },
      body,
      token,
    }),
  );
}

function remove(id: string, token = tokens.write) {
  return invoke(
    deleteEventStream,
    apiEvent({ method: 'DELETE', route: '/event-streams/{id}', pathParameters: { id }, token }),
  );
}

function newStream(overrides: Record<string, unknown> = {}) {
  return {
    event_type: 'http_request_complete',
    destination_ids: [ctx.destinationIds[0]],
    ...overrides,
  };
}

async function ngrokRequests() {
  return (await requestLog(ctx.url)).filter((entry) => entry.api === 'ngrok');
}

describe('Functions: the five operations', () => {
  it('creates (201), gets, lists, updates and deletes (204) a stream, with uri on this API', async () => {
    const created = await create(newStream({ description: 'nightly', sampling_rate: 0.1 }));
    const id = created.json.id;
    const got = await get(id);
    const listed = await list();
    const updated = await update(id, { sampling_rate: 1 });
    const deleted = await remove(id);
    const gone = await get(id);

    expect(created.status).toBe(201);
    expect(created.headers['content-type']).toBe('application/json');
    expect(created.json).toMatchObject({
      description: 'nightly',
      sampling_rate: 0.1,
      event_type: 'http_request_complete',
      uri: `https://api.example.test/event-streams/${id}`,
    });
    expect(got.json).toEqual(created.json);
    expect(listed.json).toEqual({
      event_streams: [created.json],
      uri: 'https://api.example.test/event-streams',
      next_page_uri: null,
    });
    expect(updated.status).toBe(200);
    expect(updated.json).toEqual({ ...created.json, sampling_rate: 1 });
    expect(deleted.status).toBe(204);
    expect(deleted.body).toBeUndefined();
    expectProblem(gone, 404, 'not-found');
  });

  it('pages with next_page_uri pointing at this API, not at ngrok', async () => {
    const ids = await seedStreams(ctx.url, ctx.destinationIds[0] as string, 5);

    const first = await list({ limit: '2' });
    const nextQuery = Object.fromEntries(new URL(first.json.next_page_uri).searchParams);
    const second = await list(nextQuery);

    expect(first.json.event_streams.map((s: { id: string }) => s.id)).toEqual([ids[4], ids[3]]);
    expect(first.json.next_page_uri).toBe(
      `https://api.example.test/event-streams?before_id=${ids[3]}&limit=2`,
    );
    expect(second.json.event_streams.map((s: { id: string }) => s.id)).toEqual([ids[2], ids[1]]);
    expect(JSON.stringify([first.json, second.json])).not.toContain(ctx.url);
  });

  it('uses PUBLIC_BASE_URL for links when it is set', async () => {
    process.env.PUBLIC_BASE_URL = 'https://ops.example.com/ngrok/';
    try {
      const created = await create(newStream());

      expect(created.json.uri).toBe(
        `https://ops.example.com/ngrok/event-streams/${created.json.id}`,
      );
    } finally {
      delete process.env.PUBLIC_BASE_URL;
    }
  });

  it('PATCH sends ngrok only the fields given', async () => {
    const { json: stream } = await create(newStream({ description: 'keep', metadata: 'keep' }));
    await control(ctx.url, 'DELETE', '/requests');

    const updated = await update(stream.id, { sampling_rate: 0.5 });
    const requests = await ngrokRequests();
    const patch = requests.find((entry) => entry.method === 'PATCH');

    expect(updated.json).toMatchObject({
      description: 'keep',
      metadata: 'keep',
      sampling_rate: 0.5,
    });
    expect(JSON.parse(patch?.body ?? '')).toEqual({ sampling_rate: 0.5 });
  });
});

describe('Functions: GET /event-destinations', () => {
  function destinations(query: Record<string, string> = {}, token = tokens.read) {
    return invoke(
      listEventDestinations,
      apiEvent({ method: 'GET', route: '/event-destinations', query, token }),
    );
  }

  it('lists one page of destinations, newest first, with links to this API', async () => {
    const first = await destinations({ limit: '1' });
    const second = await invoke(
      listEventDestinations,
      apiEvent({
        method: 'GET',
        route: '/event-destinations',
        query: Object.fromEntries(new URL(first.json.next_page_uri).searchParams),
        token: tokens.read,
      }),
    );

    expect(first.status).toBe(200);
    expect(first.json.uri).toBe('https://api.example.test/event-destinations');
    expect(first.json.event_destinations.map((d: { id: string }) => d.id)).toEqual([
      ctx.destinationIds[1],
    ]);
    expect(first.json.next_page_uri).toBe(
      `https://api.example.test/event-destinations?before_id=${ctx.destinationIds[1]}&limit=1`,
    );
    expect(second.json.event_destinations.map((d: { id: string }) => d.id)).toEqual([
      ctx.destinationIds[0],
    ]);
    expect(second.json.next_page_uri).toBeNull();
    expect(first.json.event_destinations[0]).not.toHaveProperty('uri');
    expect(first.json.event_destinations[0]).toMatchObject({
      description: expect.any(String),
      format: 'json',
      target: expect.any(Object),
    });
  });

  it('never passes on an AWS secret access key, even if ngrok sent one', async () => {
    const leaky = {
      id: 'ed_leaky0',
      metadata: '',
      created_at: '2026-11-27T00:00:00Z',
      description: 'creds',
      format: 'json',
      target: {
        firehose: null,
        kinesis: {
          auth: {
            role: null,
            creds: { aws_access_key_id: 'AKIAEXAMPLE', aws_secret_access_key: 'wJalrXUtnFEMI' },
          },
          stream_arn: 'arn:aws:kinesis:us-east-1:123456789012:stream/x',
        },
        cloudwatch_logs: null,
      },
      uri: `${ctx.url}/event_destinations/ed_leaky0`,
    };
    await injectFault(ctx.url, {
      method: 'GET',
      path: '/event_destinations',
      status: 200,
      body: JSON.stringify({ event_destinations: [leaky], uri: 'x', next_page_uri: null }),
    });

    const answer = await destinations();

    expect(answer.status).toBe(200);
    expect(answer.body).not.toContain('wJalrXUtnFEMI');
    expect(answer.body).not.toContain(ctx.url);
    expect(answer.json.event_destinations[0].target.kinesis.auth.creds).toEqual({
      aws_access_key_id: 'AKIAEXAMPLE',
      aws_secret_access_key: null,
    });
  });

  it('refuses a stream id as before_id and a limit out of range, with no ngrok call', async () => {
    const answer = await destinations({ before_id: 'es_1', limit: '0' });

    expectProblem(answer, 400, 'validation-failed');
    expect(answer.json.errors.map((error: { field: string }) => error.field).sort()).toEqual([
      'query.before_id',
      'query.limit',
    ]);
    expect(await ngrokRequests()).toEqual([]);
  });

  it('needs a token (401) but only the read scope', async () => {
    const noToken = await invoke(
      listEventDestinations,
      apiEvent({ method: 'GET', route: '/event-destinations' }),
    );

    expectProblem(noToken, 401, 'unauthorized');
    expect((await destinations({}, tokens.read)).status).toBe(200);
  });
});

describe('Functions: authentication and scopes', () => {
  it('answers 401 with WWW-Authenticate without a token, before loading anything', async () => {
    const answer = await invoke(
      createEventStream,
      apiEvent({ method: 'POST', route: '/event-streams', body: newStream() }),
    );

    expectProblem(answer, 401, 'unauthorized');
    expect(answer.headers['www-authenticate']).toMatch(/^Bearer /);
    expect(await requestLog(ctx.url)).toEqual([]);
  });

  it.each([
    ['an unknown token', 'Bearer nes_unknown'],
    ['a Basic credential', 'Basic dXNlcjpwYXNz'],
    ['an empty bearer', 'Bearer '],
  ])('answers 401 to %s, with no ngrok call', async (_, authorization) => {
    const answer = await invoke(
      listEventStreams,
      apiEvent({ method: 'GET', route: '/event-streams', headers: { authorization } }),
    );

    expectProblem(answer, 401, 'unauthorized');
    expect(await ngrokRequests()).toEqual([]);
  });

  it('answers 403 to a read-only token on every write route, with no ngrok call', async () => {
    const [id] = await seedStreams(ctx.url, ctx.destinationIds[0] as string, 1);

    const answers = [
      await create(newStream(), tokens.read),
      await update(id as string, { sampling_rate: 0.5 }, tokens.read),
      await remove(id as string, tokens.read),
    ];

    for (const answer of answers) {
      expectProblem(answer, 403, 'forbidden');
      expect(answer.headers['www-authenticate']).toContain('insufficient_scope');
    }
    expect(await ngrokRequests()).toEqual([]);
  });

  it('lets a read-only token read', async () => {
    expect((await list({}, tokens.read)).status).toBe(200);
  });

  it('checks the token before the body: a bad body without a token is a 401', async () => {
    const answer = await invoke(
      createEventStream,
      apiEvent({
        method: 'POST',
        route: '/event-streams',
        rawBody: '{not json',
        headers: { 'content-type': 'application/json' },
      }),
    );

    expectProblem(answer, 401, 'unauthorized');
  });
});

describe('Functions: validation', () => {
  async function expectFieldErrors(answer: Answer, fields: string[]) {
    expectProblem(answer, 400, 'validation-failed');
    expect(answer.json.errors.map((error: { field: string }) => error.field)).toEqual(fields);
    for (const error of answer.json.errors) expect(error.message).toEqual(expect.any(String));
    expect(await ngrokRequests()).toEqual([]);
  }

  it('accepts a 255-byte multibyte description and refuses 256 bytes', async () => {
    const ok = await create(newStream({ description: `${'é'.repeat(127)}a` }));
    const tooLong = await create(newStream({ description: 'é'.repeat(128) }));

    expect(ok.status).toBe(201);
    expectProblem(tooLong, 400, 'validation-failed');
    expect(tooLong.json.errors).toEqual([
      { field: 'body.description', message: 'must be at most 255 bytes of UTF-8' },
    ]);
  });

  it.each([0.009, 1.01])('refuses sampling_rate %p', async (rate) => {
    await control(ctx.url, 'DELETE', '/requests');
    await expectFieldErrors(await create(newStream({ sampling_rate: rate })), [
      'body.sampling_rate',
    ]);
  });

  it('names every bad field at once, unknown fields included', async () => {
    await control(ctx.url, 'DELETE', '/requests');
    const answer = await create({
      event_type: 'http',
      destination_ids: ['es_wrongprefix'],
      sampling_rate: 2,
      samplingRate: 0.5,
    });

    await expectFieldErrors(answer, [
      'body.event_type',
      'body.destination_ids.0',
      'body.sampling_rate',
      'body.samplingRate',
    ]);
    expect(answer.json.errors[3].message).toBe('is not a known field');
  });

  it('refuses an empty PATCH, and event_type in a PATCH', async () => {
    const [id] = await seedStreams(ctx.url, ctx.destinationIds[0] as string, 1);
    await control(ctx.url, 'DELETE', '/requests');

    const empty = await update(id as string, {});
    const eventType = await update(id as string, { event_type: 'tcp_connection_closed' });

    await expectFieldErrors(empty, ['body']);
    expect(empty.json.errors[0].message).toMatch(/at least one of: metadata, description/);
    await expectFieldErrors(eventType, ['body.event_type']);
    expect(eventType.json.errors[0].message).toBe('cannot be changed after the stream is created');
  });

  it('refuses a null in a PATCH: a field is left out to keep it', async () => {
    const [id] = await seedStreams(ctx.url, ctx.destinationIds[0] as string, 1);
    await control(ctx.url, 'DELETE', '/requests');

    await expectFieldErrors(await update(id as string, { description: null }), [
      'body.description',
    ]);
  });

  it.each([
    'es_x/../../api_keys',
    'es_x%2F..%2F..%2Fapi_keys',
    'es_..%2Fapi_keys',
    'ed_1ro7aG1J2tGT6neX0PHJLTuzQ9E',
    'es_a?b',
  ])('refuses the id %p without an upstream call', async (id) => {
    await expectFieldErrors(await get(id), ['path.id']);
    await expectFieldErrors(await update(id, { sampling_rate: 0.5 }), ['path.id']);
    await expectFieldErrors(await remove(id), ['path.id']);
  });

  it.each([
    [{ limit: '0' }, 'query.limit'],
    [{ limit: '101' }, 'query.limit'],
    [{ limit: '5,6' }, 'query.limit'],
    [{ before_id: '../x' }, 'query.before_id'],
    [{ beforeId: 'es_a' }, 'query.beforeId'],
  ])('refuses the list query %p', async (query, field) => {
    await expectFieldErrors(await list(query), [field]);
  });

  it('refuses a body that is not an object', async () => {
    await expectFieldErrors(await create([newStream()]), ['body']);
  });

  it('answers 422 to a body that is not JSON, 415 to another content type', async () => {
    const broken = await invoke(
      createEventStream,
      apiEvent({
        method: 'POST',
        route: '/event-streams',
        token: tokens.write,
        rawBody: '{"event_type":',
        headers: { 'content-type': 'application/json' },
      }),
    );
    const form = await invoke(
      createEventStream,
      apiEvent({
        method: 'POST',
        route: '/event-streams',
        token: tokens.write,
        rawBody: 'a=1',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      }),
    );

    expectProblem(broken, 422, 'malformed-json');
    expect(broken.json.detail).toMatch(/not valid JSON/);
    expectProblem(form, 415, 'unsupported-media-type');
    expect(await ngrokRequests()).toEqual([]);
  });

  it('answers 413 to a body over 16 KiB, and reads a base64-encoded body', async () => {
    const big = JSON.stringify(newStream({ metadata: 'x'.repeat(16 * 1024) }));
    const tooLarge = await invoke(
      createEventStream,
      apiEvent({
        method: 'POST',
        route: '/event-streams',
        token: tokens.write,
        rawBody: big,
        headers: { 'content-type': 'application/json' },
      }),
    );
    const encoded = await invoke(
      createEventStream,
      apiEvent({
        method: 'POST',
        route: '/event-streams',
        token: tokens.write,
        rawBody: Buffer.from(JSON.stringify(newStream())).toString('base64'),
        isBase64Encoded: true,
        headers: { 'content-type': 'application/json' },
      }),
    );

    expectProblem(tooLarge, 413, 'payload-too-large');
    expect(encoded.status).toBe(201);
  });
});

describe('Functions: upstream failures', () => {
  it('passes an ngrok validation error on as 400 with its error_code and operation_id', async () => {
    const answer = await create(newStream({ destination_ids: ['ed_000000000000000000000000000'] }));

    expectProblem(answer, 400, 'upstream-validation-failed');
    expect(answer.json.error_code).toBe('ERR_NGROK_5103');
    expect(answer.json.operation_id).toMatch(/^op_/);
  });

  it('maps ngrok 429 to 429 with Retry-After', async () => {
    await injectFault(ctx.url, {
      path: '/event_streams',
      status: 429,
      retry_after: 30,
      error_code: 'ERR_NGROK_226',
    });

    const answer = await list();

    expectProblem(answer, 429, 'rate-limited');
    expect(answer.headers['retry-after']).toBe('30');
    expect(answer.json.error_code).toBe('ERR_NGROK_226');
  });

  it('maps ngrok 5xx (after retries) to 502', async () => {
    await injectFault(ctx.url, { path: '/event_streams', status: 500, times: 10 });

    expectProblem(await list(), 502, 'upstream-error');
  });

  it('maps an ngrok that does not answer in time to 504, within the Lambda deadline', async () => {
    await injectFault(ctx.url, { path: '/event_streams', delay_ms: 10_000 });

    const started = Date.now();
    const answer = await invoke(
      listEventStreams,
      apiEvent({ method: 'GET', route: '/event-streams', token: tokens.read }),
      lambdaContext(1000),
    );

    expectProblem(answer, 504, 'upstream-timeout');
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('reads the secret again when ngrok refuses the key (it was rotated), and succeeds', async () => {
    expect((await list()).status).toBe(200); // the container now caches the old key
    await control(ctx.url, 'PATCH', '/config', { api_keys: ['rotated-key'] });
    await storeServiceSecret(ctx.url, 'rotated-key', tokens);

    const answer = await list();

    expect(answer.status).toBe(200);
    expect((await ngrokRequests()).map((entry) => entry.status)).toEqual([200, 401, 200]);
  });

  it('answers 502 when ngrok refuses the key even after a fresh read', async () => {
    await control(ctx.url, 'PATCH', '/config', { api_keys: ['some-other-key'] });

    const answer = await list();

    expectProblem(answer, 502, 'upstream-rejected-key');
    expect(answer.body).not.toContain(ctx.apiKey);
  });
});

describe('Functions: the service secret', () => {
  it('answers 500 when the secret cannot be loaded, and logs why without any secret value', async () => {
    await control(ctx.url, 'DELETE', `/secrets/${SECRET_NAME}`);
    const mark = serviceLogs.mark();

    const answer = await list();

    expectProblem(answer, 500, 'internal-error');
    const [line] = serviceLogs.since(mark).filter((record) => record.message === 'request');
    expect(line).toMatchObject({ level: 'ERROR', status: 500, kind: 'internal-error' });
    expect(JSON.stringify(line)).toMatch(/ServiceSecretError/);
  });

  it('answers 500 when the secret is not of the documented form, naming fields, not values', async () => {
    await control(ctx.url, 'PUT', `/secrets/${SECRET_NAME}`, {
      secret_string: JSON.stringify({ ngrok_api_key: 'leaky-value', callers: 'nope' }),
    });
    const mark = serviceLogs.mark();

    const answer = await list();

    expectProblem(answer, 500, 'internal-error');
    const logged = JSON.stringify(serviceLogs.since(mark));
    expect(logged).toContain('callers');
    expect(logged).not.toContain('leaky-value');
  });

  it('never logs a bearer token or the ngrok API key, even when ngrok echoes the key', async () => {
    await injectFault(ctx.url, {
      path: '/event_streams',
      status: 500,
      times: 10,
      body: JSON.stringify({ status_code: 500, msg: `bad key ${ctx.apiKey}`, details: {} }),
    });
    const mark = serviceLogs.mark();

    await list();
    await create(newStream(), tokens.read);
    await invoke(
      listEventStreams,
      apiEvent({
        method: 'GET',
        route: '/event-streams',
        headers: { authorization: 'Bearer nes_guess-of-a-token' },
      }),
    );

    const logged = serviceLogs.since(mark);
    expect(logged.filter((record) => record.message === 'request')).toHaveLength(3);
    const all = JSON.stringify(logged);
    expect(all).toContain('[redacted]'); // the echoed key, caught by the logger's redaction
    for (const secret of [tokens.read, tokens.write, 'nes_guess-of-a-token', ctx.apiKey])
      expect(all).not.toContain(secret);
  });
});

describe('Functions: hardening (each case failed before its fix)', () => {
  it('passes on what ngrok refused, but never the key, a token or the upstream URL', async () => {
    const refuse = (msg: string) =>
      injectFault(ctx.url, {
        method: 'POST',
        path: '/event_streams',
        status: 400,
        body: JSON.stringify({ error_code: 'ERR_NGROK_215', status_code: 400, msg, details: {} }),
      });

    await refuse('The sampling_rate 2 is out of range.');
    const plain = await create(newStream());
    await refuse(`Key ${ctx.apiKey} may not do this.`);
    const key = await create(newStream());
    await refuse(`See ${ctx.url}/event_streams?debug=1 for more.`);
    const url = await create(newStream());
    await refuse('Authorization: Bearer abcdefghijklmnopqrstuvwxyz0123456789');
    const token = await create(newStream());

    expect(plain.json.detail).toBe('The sampling_rate 2 is out of range.');
    expect(key.json.detail).toBe('ngrok refused the request (ERR_NGROK_215).');
    expect(url.json.detail).toBe('See the ngrok API for more.');
    expect(token.json.detail).toBe('ngrok refused the request (ERR_NGROK_215).');
    for (const answer of [key, url, token]) {
      expect(answer.body).not.toContain(ctx.apiKey);
      expect(answer.body).not.toContain(ctx.url);
    }
  });

  it('answers a DELETE with 502, not 204, when ngrok says 200 with a page and the stream is still there', async () => {
    const { json: stream } = await create(newStream());
    await injectFault(ctx.url, {
      method: 'DELETE',
      path: '/event_streams/*',
      status: 200,
      body: '<html><body>Gateway</body></html>',
    });

    const deleted = await remove(stream.id);

    expectProblem(deleted, 502, 'upstream-error');
    expect((await get(stream.id)).status).toBe(200);
  });

  it('reads JSON in UTF-8 however its charset is spelled, and refuses other charsets with 415', async () => {
    const send = (contentType: string) =>
      invoke(
        createEventStream,
        apiEvent({
          method: 'POST',
          route: '/event-streams',
          rawBody: JSON.stringify(newStream()),
          headers: { 'Content-Type': contentType },
          token: tokens.write,
        }),
      );

    for (const accepted of [
      'application/json ; charset=utf-8',
      'Application/JSON;Charset="UTF8"',
      'application/json',
    ]) {
      expect((await send(accepted)).status).toBe(201);
    }
    for (const refused of [
      'application/json; charset=utf-16',
      'application/json; charset=latin1',
      'text/json',
    ]) {
      expectProblem(await send(refused), 415, 'unsupported-media-type');
    }
  });

  it('refuses a __proto__ or constructor key with a 400 that names it: it is valid JSON', async () => {
    const proto = await invoke(
      createEventStream,
      apiEvent({
        method: 'POST',
        route: '/event-streams',
        rawBody: `{"__proto__":{"admin":true},"event_type":"http_request_complete","destination_ids":["${ctx.destinationIds[0]}"]}`,
        headers: { 'Content-Type': 'application/json' },
        token: tokens.write,
      }),
    );
    const constructorKey = await create({ ...newStream(), constructor: { prototype: {} } });

    expectProblem(proto, 400, 'validation-failed');
    expect(proto.json.errors).toEqual([{ field: 'body.__proto__', message: 'is not allowed' }]);
    expectProblem(constructorKey, 400, 'validation-failed');
    expect(constructorKey.json.errors).toEqual([
      { field: 'body.constructor', message: 'is not allowed' },
    ]);
    expect(await ngrokRequests()).toEqual([]);
  });

  it('builds links from API Gateway’s domain, never from the caller’s Host or X-Forwarded-Proto', async () => {
    const event = apiEvent({
      method: 'GET',
      route: '/event-streams',
      token: tokens.read,
      headers: { host: 'user:pass@evil.example', 'x-forwarded-proto': 'javascript' },
    });

    const answer = await invoke(listEventStreams, event);

    expect(answer.json.uri).toBe('https://api.example.test/event-streams');
  });

  it('refuses an event that is not an API Gateway request before any ngrok call', async () => {
    const event = apiEvent({ method: 'GET', route: '/event-streams', token: tokens.read });
    const broken = { ...event, requestContext: undefined } as unknown as typeof event;

    const answer = await invoke(listEventStreams, broken);
    const notEvenAnObject = await invoke(listEventStreams, null as unknown as typeof event);

    expectProblem(answer, 400, 'malformed-event');
    expectProblem(notEvenAnObject, 400, 'malformed-event');
    expect(await ngrokRequests()).toEqual([]);
  });
});
