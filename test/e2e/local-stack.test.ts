/**
 * End to end, as a user runs it: `npm start` (the sandbox and real `serverless offline`, serving
 * the esbuild bundles), then every route over real HTTP with curl-like requests.
 */
import { spawnSync } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { newCallerToken, sha256Hex } from '../../lib/auth/tokens.ts';
import { parseJsonOrUndefined } from '../helpers/json.ts';
import { type LocalStack, startLocalStack } from '../helpers/local-stack.ts';
import { control, injectFault, requestLog, seedStreams } from '../helpers/sandbox.ts';

jest.setTimeout(120_000);

const SAMPLE_TOKEN = 'nes_sample-event-token';
const READ_TOKEN = newCallerToken();
const SAMPLE_DESTINATION = 'ed_2SandboxKinesisDestination0';
const SAMPLE_STREAM = 'es_2SandboxSampleEventStream00';

let stack: LocalStack;

beforeAll(async () => {
  // A 3 s function timeout keeps the upstream-timeout test short; SECRET_CACHE_SECONDS=0 lets
  // the tests change the secret between requests.
  stack = await startLocalStack({ DEV_API_TOKEN: SAMPLE_TOKEN, SECRET_CACHE_SECONDS: '0' }, [
    '--param',
    'timeout=3',
  ]);
  const { api_keys } = await control<{ api_keys: string[] }>(stack.sandboxUrl, 'GET', '/config');
  await control(stack.sandboxUrl, 'PUT', '/secrets/ngrok-event-streams-local', {
    secret_string: JSON.stringify({
      ngrok_api_key: api_keys[0],
      callers: [
        { name: 'local-dev', token_sha256: sha256Hex(SAMPLE_TOKEN), scopes: ['read', 'write'] },
        { name: 'read-only', token_sha256: sha256Hex(READ_TOKEN), scopes: ['read'] },
      ],
    }),
  });
});

afterAll(async () => {
  await stack?.stop();
});

interface Reply {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: a JSON answer, read field by field in assertions
  json: any;
  text: string;
}

async function call(
  method: string,
  path: string,
  options: { token?: string | null; body?: unknown; rawBody?: string; contentType?: string } = {},
): Promise<Reply> {
  const headers: Record<string, string> = {};
  const token = options.token === undefined ? SAMPLE_TOKEN : options.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  let body = options.rawBody;
  if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
  const response = await fetch(path.startsWith('http') ? path : `${stack.apiUrl}${path}`, {
    method,
    headers,
    body,
  });
  const text = await response.text();
  const json = parseJsonOrUndefined(text);
  return { status: response.status, headers: response.headers, json, text };
}

/** A request whose path is sent exactly as written (fetch would resolve `..` first). */
function rawPath(method: string, path: string): Promise<number> {
  const { hostname, port } = new URL(stack.apiUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { hostname, port, method, path, headers: { authorization: `Bearer ${SAMPLE_TOKEN}` } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function expectProblem(reply: Reply, status: number) {
  expect(reply.status).toBe(status);
  expect(reply.headers.get('content-type')).toBe('application/problem+json');
  expect(reply.json).toMatchObject({
    status,
    title: expect.any(String),
    detail: expect.any(String),
  });
  expect(reply.json.type).toMatch(/^tag:ngrok-event-streams-automation,2026:problem:/);
}

async function ngrokCalls() {
  return (await requestLog(stack.sandboxUrl)).filter((entry) => entry.api === 'ngrok');
}

function newStream(overrides: Record<string, unknown> = {}) {
  return {
    event_type: 'http_request_complete',
    destination_ids: [SAMPLE_DESTINATION],
    ...overrides,
  };
}

beforeEach(async () => {
  await control(stack.sandboxUrl, 'DELETE', '/faults');
  await control(stack.sandboxUrl, 'DELETE', '/requests');
});

const ROUTES: [string, string][] = [
  ['POST', '/event-streams'],
  ['GET', '/event-streams'],
  ['GET', `/event-streams/${SAMPLE_STREAM}`],
  ['PATCH', `/event-streams/${SAMPLE_STREAM}`],
  ['DELETE', `/event-streams/${SAMPLE_STREAM}`],
];

describe('npm start: the local stack over HTTP', () => {
  it('creates, lists, gets, updates and deletes a stream, with links to this API', async () => {
    const created = await call('POST', '/event-streams', {
      body: newStream({ description: 'e2e', sampling_rate: 0.25 }),
    });
    const { id } = created.json;
    const listed = await call('GET', '/event-streams');
    const got = await call('GET', `/event-streams/${id}`);
    const updated = await call('PATCH', `/event-streams/${id}`, { body: { sampling_rate: 1 } });
    const deleted = await call('DELETE', `/event-streams/${id}`);
    const gone = await call('GET', `/event-streams/${id}`);

    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({
      description: 'e2e',
      sampling_rate: 0.25,
      uri: `${stack.apiUrl}/event-streams/${id}`,
    });
    expect(listed.status).toBe(200);
    expect(listed.json.event_streams.map((stream: { id: string }) => stream.id)).toContain(id);
    expect(got.json).toEqual(created.json);
    expect(updated.json).toEqual({ ...created.json, sampling_rate: 1 });
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe('');
    expectProblem(gone, 404);
  });

  it('answers 401 on every route without a token or with a wrong one, and calls no upstream', async () => {
    for (const [method, path] of ROUTES) {
      const body = method === 'POST' || method === 'PATCH' ? newStream() : undefined;
      const missing = await call(method, path, { token: null, body });
      const wrong = await call(method, path, { token: 'nes_wrong', body });

      expectProblem(missing, 401);
      expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expectProblem(wrong, 401);
    }
    expect(await ngrokCalls()).toEqual([]);
  });

  it('answers 403 to a read-only token on the write routes, 200 on the read routes', async () => {
    const writes = ROUTES.filter(([method]) => method !== 'GET');
    for (const [method, path] of writes) {
      expectProblem(
        await call(method, path, {
          token: READ_TOKEN,
          body: method === 'DELETE' ? undefined : newStream(),
        }),
        403,
      );
    }
    expect(await ngrokCalls()).toEqual([]);

    for (const [method, path] of ROUTES.filter(([method]) => method === 'GET')) {
      expect((await call(method, path, { token: READ_TOKEN })).status).toBe(200);
    }
  });

  it('accepts a 255-byte multibyte description, refuses 256 bytes and rates 0.009 and 1.01', async () => {
    const ok = await call('POST', '/event-streams', {
      body: newStream({ description: `${'é'.repeat(127)}a` }),
    });
    await control(stack.sandboxUrl, 'DELETE', '/requests');
    const long = await call('POST', '/event-streams', {
      body: newStream({ description: 'é'.repeat(128) }),
    });
    const low = await call('POST', '/event-streams', { body: newStream({ sampling_rate: 0.009 }) });
    const high = await call('PATCH', `/event-streams/${ok.json.id}`, {
      body: { sampling_rate: 1.01 },
    });

    expect(ok.status).toBe(201);
    for (const [reply, field] of [
      [long, 'body.description'],
      [low, 'body.sampling_rate'],
      [high, 'body.sampling_rate'],
    ] as const) {
      expectProblem(reply, 400);
      expect(reply.json.errors).toEqual([{ field, message: expect.any(String) }]);
    }
    expect(await ngrokCalls()).toEqual([]);
  });

  it('refuses ids that try to reach another upstream path, without an upstream call', async () => {
    const statuses = [
      await rawPath('GET', '/event-streams/es_x/../../api_keys'),
      await rawPath('GET', '/event-streams/es_x%2F..%2F..%2Fapi_keys'),
      await rawPath('DELETE', '/event-streams/es_x%2F..%2F..%2Fapi_keys'),
      await rawPath('GET', '/event-streams/%2e%2e%2fapi_keys'),
      await rawPath('GET', '/event-streams/es_x%3Flimit%3D1'),
    ];

    for (const status of statuses) expect([400, 404]).toContain(status);
    expect(statuses[1]).toBe(400);
    expect(await ngrokCalls()).toEqual([]);
  });

  it('answers 415 to another content type, 422 to a body that is not JSON, 413 over 16 KiB', async () => {
    expectProblem(
      await call('POST', '/event-streams', {
        rawBody: 'a=1',
        contentType: 'application/x-www-form-urlencoded',
      }),
      415,
    );
    expectProblem(await call('POST', '/event-streams', { rawBody: '{"event_type":' }), 422);
    expectProblem(
      await call('POST', '/event-streams', { body: newStream({ metadata: 'x'.repeat(17_000) }) }),
      413,
    );
  });

  it('maps upstream 404, 429, 500 and a timeout as the contract says', async () => {
    const notFound = await call('GET', '/event-streams/es_000000000000000000000000000');
    await injectFault(stack.sandboxUrl, {
      path: '/event_streams',
      status: 429,
      retry_after: 42,
      error_code: 'ERR_NGROK_226',
    });
    const limited = await call('GET', '/event-streams');
    await injectFault(stack.sandboxUrl, { path: '/event_streams', status: 500, times: 10 });
    const failed = await call('GET', '/event-streams');
    await control(stack.sandboxUrl, 'DELETE', '/faults');
    await injectFault(stack.sandboxUrl, { path: '/event_streams', delay_ms: 20_000 });
    const started = Date.now();
    const slow = await call('GET', '/event-streams');
    const waited = Date.now() - started;

    expectProblem(notFound, 404);
    expectProblem(limited, 429);
    expect(limited.headers.get('retry-after')).toBe('42');
    expect(limited.json.error_code).toBe('ERR_NGROK_226');
    expectProblem(failed, 502);
    expectProblem(slow, 504);
    // Cut short by the deadline (the function timeout is 3 s), far before the 20 s delay ends.
    expect(waited).toBeLessThan(10_000);
  });

  it('pages with next_page_uri that points at this API', async () => {
    await seedStreams(stack.sandboxUrl, SAMPLE_DESTINATION, 5);
    const all = (await call('GET', '/event-streams')).json.event_streams.map(
      (stream: { id: string }) => stream.id,
    );

    const seen: string[] = [];
    let next: string | null = `${stack.apiUrl}/event-streams?limit=2`;
    while (next !== null) {
      expect(next.startsWith(`${stack.apiUrl}/event-streams?`)).toBe(true);
      const page = await call('GET', next);
      seen.push(...page.json.event_streams.map((stream: { id: string }) => stream.id));
      next = page.json.next_page_uri;
    }

    expect(seen).toEqual(all);
    expect(seen.length).toBeGreaterThanOrEqual(5);
  });

  it('runs each sample event with `serverless invoke local` against the running sandbox', () => {
    const statuses = [
      'getEventStream',
      'updateEventStream',
      'createEventStream',
      'deleteEventStream',
      'listEventStreams',
    ].map((name) => {
      const run = spawnSync(
        process.execPath,
        [join(__dirname, '..', '..', 'scripts', 'invoke.ts'), name],
        {
          cwd: join(__dirname, '..', '..'),
          env: { ...process.env, SANDBOX_PORT: String(stack.sandboxPort) },
          encoding: 'utf8',
          timeout: 60_000,
        },
      );
      return Number(/"statusCode": (\d+)/.exec(run.stdout)?.[1] ?? `0${run.stderr}`);
    });

    expect(statuses).toEqual([200, 200, 201, 204, 200]);
  });
});

describe('npm start with NGROK_API_KEY', () => {
  it('talks to the ngrok API at NGROK_API_URL with that key, not to its own sandbox', async () => {
    const { startSandbox } = await import('../../sandbox/server.ts');
    const upstream = await startSandbox({ apiKeys: ['real-looking-key'], rateLimit: false });
    const token = newCallerToken();
    const other = await startLocalStack({
      NGROK_API_KEY: 'real-looking-key',
      NGROK_API_URL: upstream.url,
      DEV_API_TOKEN: token,
    });
    try {
      const reply = await fetch(`${other.apiUrl}/event-streams`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const stopped = await other.stop();

      expect(reply.status).toBe(200);
      expect(upstream.requests.filter((entry) => entry.api === 'ngrok')).toHaveLength(1);
      expect(other.output()).toContain(`${upstream.url} (real, NGROK_API_KEY)`);
      expect(other.output()).not.toContain('real-looking-key');
      expect(stopped).toBe(0);
    } finally {
      await other.stop();
      await upstream.close();
    }
  });
});
