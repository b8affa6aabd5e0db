/**
 * The ngrok client over real HTTP to the sandbox: every operation, every error class, paging,
 * retries and deadlines.
 */
import { NgrokClient } from '../../lib/ngrok/client.ts';
import {
  NgrokApiError,
  NgrokInvalidIdError,
  NgrokInvalidResponseError,
  NgrokNetworkError,
  NgrokTimeoutError,
} from '../../lib/ngrok/errors.ts';
import type { EventStreamCreate } from '../../lib/ngrok/schemas.ts';
import { control, injectFault, requestLog, seedStreams, useSandbox } from '../helpers/sandbox.ts';

const ctx = useSandbox();

/** Short backoffs keep the retry tests quick; the policy's shape is what is under test. */
function client(overrides: Partial<ConstructorParameters<typeof NgrokClient>[0]> = {}) {
  return new NgrokClient({
    apiKey: ctx.apiKey,
    baseUrl: ctx.url,
    retry: { baseDelayMs: 20, maxDelayMs: 100 },
    ...overrides,
  });
}

function newStream(overrides: Partial<EventStreamCreate> = {}): EventStreamCreate {
  return {
    event_type: 'http_request_complete',
    destination_ids: [ctx.destinationIds[0] as string],
    ...overrides,
  };
}

async function apiRequests() {
  return (await requestLog(ctx.url)).filter((entry) => entry.api === 'ngrok');
}

describe('NgrokClient: Event Streams operations', () => {
  it('creates, gets, lists, updates and deletes a stream', async () => {
    const ngrok = client();

    const created = await ngrok.eventStreams.create(
      newStream({
        description: 'low sampling, basic HTTP logs',
        metadata: '{"environment": "staging"}',
        fields: ['http.request.method', 'conn.client_ip'],
        sampling_rate: 0.1,
      }),
    );
    const got = await ngrok.eventStreams.get(created.id);
    const listed = await ngrok.eventStreams.list();
    const updated = await ngrok.eventStreams.update(created.id, { sampling_rate: 0.5 });
    await ngrok.eventStreams.delete(created.id);
    const afterDelete = await ngrok.eventStreams.list();

    expect(created).toMatchObject({
      description: 'low sampling, basic HTTP logs',
      event_type: 'http_request_complete',
      destination_ids: [ctx.destinationIds[0]],
      sampling_rate: 0.1,
      uri: `${ctx.url}/event_streams/${created.id}`,
    });
    expect(got).toEqual(created);
    expect(listed.event_streams).toEqual([created]);
    expect(listed.next_page_uri).toBeNull();
    expect(updated).toEqual({ ...created, sampling_rate: 0.5 });
    expect(afterDelete.event_streams).toEqual([]);
  });

  it('sends Bearer auth and Ngrok-Version: 2, and a PATCH body with only the fields given', async () => {
    const ngrok = client();
    const created = await ngrok.eventStreams.create(newStream({ description: 'd', metadata: 'm' }));
    await control(ctx.url, 'DELETE', '/requests');

    await ngrok.eventStreams.update(created.id, {
      description: 'only this',
      metadata: undefined,
      // biome-ignore lint/suspicious/noExplicitAny: a JavaScript caller may pass null
      fields: null as any,
    });
    const [patch] = await apiRequests();

    expect(patch?.method).toBe('PATCH');
    expect(JSON.parse(patch?.body ?? '')).toEqual({ description: 'only this' });
  });

  it('lists one page with before_id and limit', async () => {
    const ids = await seedStreams(ctx.url, ctx.destinationIds[0] as string, 5);

    const page = await client().eventStreams.list({ before_id: ids[3], limit: 2 });

    expect(page.event_streams.map((stream) => stream.id)).toEqual([ids[2], ids[1]]);
    expect(page.next_page_uri).not.toBeNull();
  });

  it('iterates every stream across three pages, newest first, each once', async () => {
    const ids = await seedStreams(ctx.url, ctx.destinationIds[0] as string, 250);

    const seen: string[] = [];
    for await (const stream of client().eventStreams.listAll({ limit: 100 })) seen.push(stream.id);
    const lists = (await apiRequests()).filter((entry) => entry.path === '/event_streams');

    expect(seen).toEqual([...ids].reverse());
    expect(lists.map((entry) => entry.query)).toEqual([
      '?limit=100',
      `?before_id=${ids[150]}&limit=100`,
      `?before_id=${ids[50]}&limit=100`,
    ]);
  });

  it('awaits its hook before each page, and stops where the hook throws', async () => {
    await seedStreams(ctx.url, ctx.destinationIds[0] as string, 250);
    const events: string[] = [];

    const walk = async () => {
      for await (const _ of client().eventStreams.listAll({ limit: 100 }, {}, async (index) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        events.push(`page ${index}: ${(await apiRequests()).length} requests before`);
        if (index === 2) throw new Error('enough');
      }));
    };

    await expect(walk()).rejects.toThrow('enough');
    expect(events).toEqual([
      'page 0: 0 requests before',
      'page 1: 1 requests before',
      'page 2: 2 requests before',
    ]);
    expect(await apiRequests()).toHaveLength(2);
  });

  it('reuses keep-alive connections across calls and across client instances', async () => {
    for (let call = 0; call < 10; call++) await client().eventStreams.list();

    const connections = new Set((await apiRequests()).map((entry) => entry.connection));

    expect(connections.size).toBeLessThanOrEqual(2);
  });

  it('gets and lists Event Destinations', async () => {
    const ngrok = client();

    const listed = await ngrok.eventDestinations.list();
    const got = await ngrok.eventDestinations.get(ctx.destinationIds[0] as string);

    expect(listed.event_destinations.map((d) => d.id)).toEqual([...ctx.destinationIds].reverse());
    expect(got.id).toBe(ctx.destinationIds[0]);
    expect(got.target.kinesis?.stream_arn).toMatch(/^arn:aws:kinesis:/);
    expect(got.target.firehose).toBeNull();
  });
});

describe('NgrokClient: errors', () => {
  it('an ngrok error is an NgrokApiError with status, error_code, msg and operation_id', async () => {
    const error = await client()
      .eventStreams.create(newStream({ sampling_rate: 0.009 }))
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(NgrokApiError);
    expect(error).toMatchObject({
      status: 400,
      errorCode: 'ERR_NGROK_215',
      operation: 'event_streams.create',
    });
    expect((error as NgrokApiError).ngrokMessage).toMatch(/sampling_rate/);
    expect((error as NgrokApiError).operationId).toMatch(/^op_/);
  });

  it('a 404 without error_code is an NgrokApiError with status 404', async () => {
    const error = await client()
      .eventStreams.get('es_000000000000000000000000000')
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(NgrokApiError);
    expect(error).toMatchObject({
      status: 404,
      errorCode: undefined,
      ngrokMessage: 'Resource not found',
    });
  });

  it('a wrong API key is a 401 NgrokApiError whose message does not hold the key', async () => {
    const error = await client({ apiKey: 'wrong-key-123' })
      .eventStreams.list()
      .catch((e: unknown) => e);

    expect(error).toMatchObject({ status: 401, errorCode: 'ERR_NGROK_203' });
    expect(String(error)).not.toContain('wrong-key-123');
    expect(JSON.stringify(error)).not.toContain('wrong-key-123');
  });

  it('a non-JSON error page keeps the status and takes the operation id from the header', async () => {
    await injectFault(ctx.url, {
      path: '/event_streams',
      status: 502,
      body: '<html>Bad Gateway</html>',
      times: 4,
    });

    const error = await client({ retry: { maxAttempts: 1 } })
      .eventStreams.list()
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(NgrokApiError);
    expect(error).toMatchObject({ status: 502, errorCode: undefined });
    expect((error as NgrokApiError).operationId).toMatch(/^op_/);
  });

  it('a success answer that is not the API object is an NgrokInvalidResponseError', async () => {
    await injectFault(ctx.url, { path: '/event_streams', status: 200, body: 'not json' });
    await injectFault(ctx.url, {
      path: '/event_streams',
      status: 200,
      body: '{"event_streams":"nope"}',
    });

    const notJson = await client()
      .eventStreams.list()
      .catch((e: unknown) => e);
    const wrongShape = await client()
      .eventStreams.list()
      .catch((e: unknown) => e);

    expect(notJson).toBeInstanceOf(NgrokInvalidResponseError);
    expect(wrongShape).toBeInstanceOf(NgrokInvalidResponseError);
    expect(String(wrongShape)).toMatch(/event_streams/);
  });

  it('a refused connection is an NgrokNetworkError that says the request was never sent', async () => {
    const closed = await (await import('../../sandbox/server.ts')).startSandbox();
    const closedUrl = closed.url;
    await closed.close();

    const error = await client({ baseUrl: closedUrl, retry: { maxAttempts: 2, baseDelayMs: 1 } })
      .eventStreams.list()
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(NgrokNetworkError);
    expect(error).toMatchObject({ code: 'ECONNREFUSED', requestSent: false });
  });

  it.each([
    'es_x/../../api_keys',
    'es_x%2F..%2F..%2Fapi_keys',
    'es_..',
    'es_abc?limit=1',
    'es_abc#x',
    'ed_000000000000000000000000000',
    '',
    'es_',
  ])('refuses the id %p before any request', async (id) => {
    const ngrok = client();

    await expect(ngrok.eventStreams.get(id)).rejects.toBeInstanceOf(NgrokInvalidIdError);
    await expect(ngrok.eventStreams.update(id, { sampling_rate: 0.5 })).rejects.toBeInstanceOf(
      NgrokInvalidIdError,
    );
    await expect(ngrok.eventStreams.delete(id)).rejects.toBeInstanceOf(NgrokInvalidIdError);
    await expect(ngrok.eventDestinations.get(id.replace('ed_', 'es_'))).rejects.toBeInstanceOf(
      NgrokInvalidIdError,
    );
    expect(await apiRequests()).toEqual([]);
  });
});

describe('NgrokClient: retries', () => {
  it('retries a GET after 503s and succeeds', async () => {
    const [id] = await seedStreams(ctx.url, ctx.destinationIds[0] as string, 1);
    await injectFault(ctx.url, { method: 'GET', path: '/event_streams/*', status: 503, times: 2 });

    const stream = await client().eventStreams.get(id as string);

    expect(stream.id).toBe(id);
    expect((await apiRequests()).map((entry) => entry.status)).toEqual([503, 503, 200]);
  });

  it('gives up after maxAttempts and throws the last error', async () => {
    await injectFault(ctx.url, { path: '/event_streams', status: 500, times: 10 });

    const error = await client({ retry: { maxAttempts: 3, baseDelayMs: 1 } })
      .eventStreams.list()
      .catch((e: unknown) => e);

    expect(error).toMatchObject({ status: 500 });
    expect(await apiRequests()).toHaveLength(3);
  });

  it('waits Retry-After on a 429 before trying again', async () => {
    await injectFault(ctx.url, {
      path: '/event_streams',
      status: 429,
      retry_after: 1,
      error_code: 'ERR_NGROK_226',
    });

    const started = Date.now();
    const page = await client().eventStreams.list();

    expect(page.event_streams).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect((await apiRequests()).map((entry) => entry.status)).toEqual([429, 200]);
  });

  it('retries a 429 without Retry-After with backoff', async () => {
    await injectFault(ctx.url, { path: '/event_streams', status: 429, times: 2 });

    await client().eventStreams.list();

    expect((await apiRequests()).map((entry) => entry.status)).toEqual([429, 429, 200]);
  });

  it('does not wait for a Retry-After that ends after the deadline: the 429 comes back at once', async () => {
    await injectFault(ctx.url, { path: '/event_streams', status: 429, retry_after: 30 });

    const started = Date.now();
    const error = await client()
      .eventStreams.list({}, { deadline: Date.now() + 2000 })
      .catch((e: unknown) => e);

    expect(error).toMatchObject({ status: 429, retryAfterSeconds: 30 });
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('retries a POST on 429: ngrok did not act on it', async () => {
    await injectFault(ctx.url, { method: 'POST', path: '/event_streams', status: 429 });

    await client().eventStreams.create(newStream());

    expect((await apiRequests()).map((entry) => entry.status)).toEqual([429, 201]);
    expect(ctx.sandbox.state.streams.size).toBe(1);
  });

  it('does not retry a POST whose connection dropped after sending: no duplicate stream', async () => {
    await injectFault(ctx.url, { method: 'POST', path: '/event_streams', drop: 'after' });

    const error = await client()
      .eventStreams.create(newStream())
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(NgrokNetworkError);
    expect((error as NgrokNetworkError).requestSent).toBe(true);
    expect(await apiRequests()).toHaveLength(1);
    expect(ctx.sandbox.state.streams.size).toBe(1);
  });

  it('does not retry a POST on 503: ngrok may have acted on it', async () => {
    await injectFault(ctx.url, { method: 'POST', path: '/event_streams', status: 503 });

    await expect(client().eventStreams.create(newStream())).rejects.toMatchObject({ status: 503 });
    expect(await apiRequests()).toHaveLength(1);
  });

  it('retries a PATCH after a dropped connection', async () => {
    const [id] = await seedStreams(ctx.url, ctx.destinationIds[0] as string, 1);
    await injectFault(ctx.url, { method: 'PATCH', path: '/event_streams/*', drop: 'before' });

    const updated = await client().eventStreams.update(id as string, { sampling_rate: 0.25 });

    expect(updated.sampling_rate).toBe(0.25);
    expect((await apiRequests()).map((entry) => entry.status)).toEqual([null, 200]);
  });

  it('a DELETE whose answer was lost, then finds nothing, has succeeded', async () => {
    const [id] = await seedStreams(ctx.url, ctx.destinationIds[0] as string, 1);
    await injectFault(ctx.url, { method: 'DELETE', path: '/event_streams/*', drop: 'after' });

    await client().eventStreams.delete(id as string);

    expect((await apiRequests()).map((entry) => entry.status)).toEqual([null, 404]);
    expect(ctx.sandbox.state.streams.size).toBe(0);
  });

  it('a DELETE of a stream that never existed is still a 404', async () => {
    await expect(
      client().eventStreams.delete('es_000000000000000000000000000'),
    ).rejects.toMatchObject({
      status: 404,
    });
  });
});

describe('NgrokClient: deadlines', () => {
  it('a deadline cuts an upstream delay short with an NgrokTimeoutError', async () => {
    await injectFault(ctx.url, { path: '/event_streams', delay_ms: 10_000 });

    const started = Date.now();
    const error = await client()
      .eventStreams.list({}, { deadline: Date.now() + 300 })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(NgrokTimeoutError);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('the deadline bounds retries too', async () => {
    await injectFault(ctx.url, { path: '/event_streams', delay_ms: 200, status: 503, times: 100 });

    const started = Date.now();
    const error = await client({ retry: { maxAttempts: 100, baseDelayMs: 1 } })
      .eventStreams.list({}, { deadline: Date.now() + 700 })
      .catch((e: unknown) => e);

    expect(Date.now() - started).toBeLessThan(3000);
    expect(error instanceof NgrokTimeoutError || (error as NgrokApiError).status === 503).toBe(
      true,
    );
    expect((await apiRequests()).length).toBeLessThanOrEqual(5);
  });

  it('does not start a retry that would have too little time left to be answered: the last error comes back', async () => {
    // A 503 asking for 1 s, with 1.1 s left: the retry would have 0.1 s for its answer.
    await injectFault(ctx.url, { path: '/event_streams', status: 503, retry_after: 1 });

    const started = Date.now();
    const error = await client()
      .eventStreams.list({}, { deadline: Date.now() + 1100 })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(NgrokApiError);
    expect((error as NgrokApiError).status).toBe(503);
    expect(Date.now() - started).toBeLessThan(500);
    expect((await apiRequests()).length).toBe(1);
  });

  it('a deadline already past fails at once without a request', async () => {
    const error = await client()
      .eventStreams.list({}, { deadline: Date.now() - 1 })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(NgrokTimeoutError);
    expect(await apiRequests()).toEqual([]);
  });

  it('without a deadline, the client-wide default timeout applies', async () => {
    await injectFault(ctx.url, { path: '/event_streams', delay_ms: 10_000 });

    const error = await client({ defaultTimeoutMs: 200 })
      .eventStreams.list()
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(NgrokTimeoutError);
  });
});

describe('NgrokClient: configuration', () => {
  const saved = process.env.NGROK_API_URL;
  afterEach(() => {
    if (saved === undefined) delete process.env.NGROK_API_URL;
    else process.env.NGROK_API_URL = saved;
  });

  it('takes its base URL from NGROK_API_URL', async () => {
    process.env.NGROK_API_URL = ctx.url;

    const page = await new NgrokClient({ apiKey: ctx.apiKey }).eventStreams.list();

    expect(page.uri).toBe(`${ctx.url}/event_streams`);
  });

  it('refuses a base URL that is not http(s) and an empty API key', () => {
    expect(() => new NgrokClient({ apiKey: 'k', baseUrl: 'ftp://x' })).toThrow(/http\(s\) URL/);
    expect(() => new NgrokClient({ apiKey: '', baseUrl: ctx.url })).toThrow(/API key is empty/);
  });
});
