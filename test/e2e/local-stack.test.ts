/**
 * End to end, as a user runs it: `npm start` (the sandbox and real `serverless offline`, serving
 * the esbuild bundles), then every route over real HTTP with curl-like requests.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { newCallerToken, sha256Hex } from '../../lib/auth/tokens.ts';
import { freePort } from '../../scripts/local-stack.ts';
import { parseJsonOrUndefined } from '../helpers/json.ts';
import { type LocalStack, ROOT, startLocalStack } from '../helpers/local-stack.ts';
import { registerSecret } from '../helpers/logs.ts';
import {
  endTree,
  processesWith,
  RUN_MARKER,
  spawnTracked,
  treeProcesses,
} from '../helpers/processes.ts';
import { rawExchange } from '../helpers/raw-http.ts';
import { BEARER_ROUTES } from '../helpers/routes.ts';
import { control, injectFault, requestLog, seedStreams } from '../helpers/sandbox.ts';

jest.setTimeout(120_000);

const SAMPLE_TOKEN = 'nes_sample-event-token';
const READ_TOKEN = newCallerToken();
const SAMPLE_DESTINATION = 'ed_2SandboxKinesisDestination0';
const SAMPLE_STREAM = 'es_2SandboxSampleEventStream00';

let stack: LocalStack;
let lambdaPort: number;
let startupLines: Record<string, unknown>[];
/** The ngrok API key this file gives the sandbox and the local secret. */
let apiKey: string;

/** Whether something accepts TCP connections on this port of 127.0.0.1. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

beforeAll(async () => {
  registerSecret(SAMPLE_TOKEN, READ_TOKEN);
  lambdaPort = await freePort();
  // A 3 s function timeout keeps the upstream-timeout test short, and a 2 s settle time the
  // Idempotency-Key's lost answers; SECRET_CACHE_SECONDS=0 lets the tests change the secret
  // between requests.
  stack = await startLocalStack(
    { DEV_API_TOKEN: SAMPLE_TOKEN, SECRET_CACHE_SECONDS: '0', LAMBDA_PORT: String(lambdaPort) },
    ['--param', 'timeout=3', '--param', 'idempotencySettleSeconds=2'],
  );
  startupLines = stack.serviceLines();
  // The sandbox does not show its key: the test sets one it knows.
  apiKey = `e2e-${newCallerToken()}`;
  await control(stack.sandboxUrl, 'PATCH', '/config', { api_keys: [apiKey] });
  registerSecret(apiKey);
  const { slack, alerts } = JSON.parse(
    readFileSync(join(ROOT, '.local-stack', `stack-${new URL(stack.apiUrl).port}.json`), 'utf8'),
  );
  registerSecret(slack.signing_secret, alerts.token, alerts.pagerduty_secret);
  await control(stack.sandboxUrl, 'PUT', '/secrets/ngrok-event-streams-local', {
    secret_string: JSON.stringify({
      ngrok_api_key: apiKey,
      callers: [
        { name: 'local-dev', token_sha256: sha256Hex(SAMPLE_TOKEN), scopes: ['read', 'write'] },
        { name: 'read-only', token_sha256: sha256Hex(READ_TOKEN), scopes: ['read'] },
        { name: 'alerts', token_sha256: sha256Hex(alerts.token), scopes: ['alerts'] },
      ],
      pagerduty: { webhook_secrets: [alerts.pagerduty_secret] },
      slack: {
        signing_secret: slack.signing_secret,
        team_ids: [slack.team_id],
        allowed_user_ids: slack.user_ids,
      },
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
  options: {
    token?: string | null;
    body?: unknown;
    rawBody?: string;
    contentType?: string;
    headers?: Record<string, string>;
  } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...options.headers };
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

/** Every route with a token, as the function files declare them, on the sample stream. */
const ROUTES: [string, string][] = BEARER_ROUTES.map((route) => [
  route.method,
  route.path.replace('{id}', SAMPLE_STREAM),
]);

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

  it('logs exactly one request line per request, and one audit line for an update, by request id', async () => {
    const updated = await call('PATCH', `/event-streams/${SAMPLE_STREAM}`, {
      body: { sampling_rate: 0.5 },
    });
    const requestId = updated.headers.get('x-request-id');
    const got = await call('GET', `/event-streams/${SAMPLE_STREAM}`);
    const getId = got.headers.get('x-request-id');
    const ofRequest = (id: string | null) =>
      stack.serviceLines().filter((line) => line.correlation_id === id && !('_aws' in line));
    await stack.waitForLine((line) => line.correlation_id === getId && line.message === 'request');

    expect(updated.status).toBe(200);
    // The local API Gateway's request id, as API Gateway's: also its apigw-requestid header.
    expect(requestId).toBe(updated.headers.get('apigw-requestid'));
    expect(getId).not.toBe(requestId);
    const lines = ofRequest(requestId);
    expect(lines.filter((line) => line.message === 'request')).toEqual([
      expect.objectContaining({
        route: 'PATCH /event-streams/{id}',
        caller: 'local-dev',
        status: 200,
        stream_id: SAMPLE_STREAM,
        ngrok_calls: [
          expect.objectContaining({ operation: 'event_streams.get', status: 200, attempts: 1 }),
          expect.objectContaining({ operation: 'event_streams.update', status: 200, attempts: 1 }),
        ],
      }),
    ]);
    expect(lines.filter((line) => line.audit === true)).toEqual([
      expect.objectContaining({
        action: 'event_stream.update',
        stream_id: SAMPLE_STREAM,
        actor: { kind: 'http', name: 'local-dev' },
        changes: { sampling_rate: { before: expect.any(Number), after: 0.5 } },
        outcome: 'success',
      }),
    ]);
    expect(lines).toHaveLength(2);
    expect(ofRequest(getId)).toHaveLength(1);
  });

  it('serves GET /openapi.json without a token, and GET /event-destinations', async () => {
    const document = await call('GET', '/openapi.json', { token: null });
    const destinations = await call('GET', '/event-destinations');

    expect(document.status).toBe(200);
    expect(document.json).toEqual(JSON.parse(readFileSync(join(ROOT, 'openapi.json'), 'utf8')));
    expect(destinations.status).toBe(200);
    expect(destinations.json.event_destinations.map((d: { id: string }) => d.id)).toContain(
      SAMPLE_DESTINATION,
    );
  });

  it("prints the API's URL as the one URL to call: not serverless offline's own server, the first build said", async () => {
    await call('GET', '/openapi.json', { token: null });
    // The functions' own JSON lines stay in the output, as they are.
    await stack.waitForLine((line) => line.message === 'request' && line.status === 200);
    const output = stack.output();
    const banner = output.slice(output.indexOf('ngrok Event Streams API running at'));

    expect(output).toContain('the first start takes about half a minute');
    expect(output).not.toContain('Server ready:');
    expect(output).not.toMatch(/^\s*[┌│└]/m);
    expect(banner).toContain(`bearer token:     ${SAMPLE_TOKEN}`);
    expect(banner).toContain('(from DEV_API_TOKEN)');
    expect(banner).toContain('Ctrl-C stops everything.');
  });

  it('brings the sample stream back with `npm run sandbox:reset`, without a restart', async () => {
    await call('DELETE', `/event-streams/${SAMPLE_STREAM}`);
    const gone = await call('GET', `/event-streams/${SAMPLE_STREAM}`);
    const reset = spawnSync(process.execPath, [join(ROOT, 'scripts', 'sandbox-reset.ts')], {
      cwd: ROOT,
      env: { ...process.env, PORT: new URL(stack.apiUrl).port },
      encoding: 'utf8',
    });
    // The reset restores the sandbox's config as started: this file's own key, again.
    await control(stack.sandboxUrl, 'PATCH', '/config', { api_keys: [apiKey] });
    const back = await call('GET', `/event-streams/${SAMPLE_STREAM}`);

    expect(gone.status).toBe(404);
    expect(reset.status).toBe(0);
    expect(reset.stdout).toContain(`sample stream:    ${SAMPLE_STREAM}`);
    expect(back.status).toBe(200);
    expect(back.json.sampling_rate).toBe(1);
  });

  it('logged no request at start-up, and prints how to send a Slack command', () => {
    expect(startupLines.filter((line) => line.message === 'request')).toEqual([]);
    expect(stack.output()).toContain('Slack command:    POST');
    expect(stack.output()).toContain('team T0000LOCAL, users allowed to change: U0000LOCAL');
    expect(stack.output()).toContain('npm run slack -- help');
  });

  it('answers `npm run slack` at once, and the worker’s answer arrives on the response_url', () => {
    const slack = (...args: string[]) =>
      spawnSync(process.execPath, [join(ROOT, 'scripts', 'slack.ts'), ...args], {
        cwd: ROOT,
        // The stack of this file, among others the suite may run in this folder.
        env: { ...process.env, PORT: new URL(stack.apiUrl).port },
        encoding: 'utf8',
        timeout: 90_000,
      });

    const help = slack('help');
    const plan = slack('plan');
    const refused = slack(`sample ${SAMPLE_STREAM} 25%`, '--user', 'U0SOMEONE');

    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(
      /^HTTP 200 in \d+ ms\n\[ephemeral\]\n\*\/eventstreams\* — ngrok Event Streams/,
    );
    expect(plan.stdout).toContain('Working on `/eventstreams plan`…');
    expect(plan.stdout).toMatch(/\[ephemeral, replaces the answer\]\n\*Sampling plan at .* UTC: /);
    expect(plan.stdout).toContain(SAMPLE_STREAM);
    expect(refused.stdout).toContain('Only the Slack users this service allows may use `sample`');
  });

  it('listens for Lambda invokes on LAMBDA_PORT', async () => {
    expect(await listening(lambdaPort)).toBe(true);
    const invoked = await fetch(
      `http://127.0.0.1:${lambdaPort}/2015-03-31/functions/ngrok-event-streams-dev-getOpenApi/invocations`,
      {
        method: 'POST',
        body: JSON.stringify({
          version: '2.0',
          routeKey: 'GET /openapi.json',
          rawPath: '/openapi.json',
          headers: {},
          requestContext: { http: { method: 'GET' }, requestId: 'lambda-invoke-1' },
        }),
      },
    );

    expect(invoked.status).toBe(200);
    expect(await invoked.json()).toMatchObject({ statusCode: 200 });
  });

  it('keeps serving while `serverless package` runs in the same folder', () => {
    const packaged = spawnSync(
      process.execPath,
      [join(ROOT, 'node_modules', 'osls', 'bin', 'serverless.js'), 'package'],
      { cwd: ROOT, encoding: 'utf8', env: { ...process.env, AWS_PROFILE: 'none-such' } },
    );

    expect(packaged.status).toBe(0);
    // A new connection: the client's pooled one went idle while packaging.
    const { hostname, port } = new URL(stack.apiUrl);
    return new Promise<void>((resolve, reject) => {
      const req = httpRequest(
        {
          hostname,
          port,
          path: `/event-streams/${SAMPLE_STREAM}`,
          agent: false,
          headers: { authorization: `Bearer ${SAMPLE_TOKEN}` },
        },
        (res) => {
          let text = '';
          res.on('data', (chunk) => {
            text += chunk;
          });
          res.on('end', () => {
            try {
              expect(res.statusCode).toBe(200);
              expect(JSON.parse(text).id).toBe(SAMPLE_STREAM);
              resolve();
            } catch (error) {
              reject(error);
            }
          });
        },
      );
      req.on('error', reject);
      req.end();
    });
  });

  it('plans and applies the sampling schedule (the shipped policy) over HTTP', async () => {
    // Set the sample stream by hand to a rate no window of the shipped policy gives.
    await call('PATCH', `/event-streams/${SAMPLE_STREAM}`, { body: { sampling_rate: 0.33 } });
    const planned = await call('GET', '/sampling/plan', { token: READ_TOKEN });
    const sample = planned.json.streams.find(
      (stream: { id: string }) => stream.id === SAMPLE_STREAM,
    );
    const dry = await call('POST', '/sampling/apply', { body: { dry_run: true } });
    const applied = await call('POST', '/sampling/apply', { rawBody: '' });
    const after = await call('GET', `/event-streams/${SAMPLE_STREAM}`);
    const requestId = applied.headers.get('x-request-id');
    await stack.waitForLine(
      (line) => line.correlation_id === requestId && line.message === 'request',
    );

    expect(planned.status).toBe(200);
    expect(sample).toMatchObject({
      rule: 'sandbox-example',
      current_rate: 0.33,
      action: 'change',
      next_change: expect.objectContaining({ timezone: 'Europe/Berlin' }),
    });
    expect([1, 0.1, 0.05]).toContain(sample.desired_rate);
    expect(dry.json.summary.changed).toBe(0);
    expect(applied.status).toBe(200);
    expect(applied.json.streams).toEqual([
      expect.objectContaining({
        id: SAMPLE_STREAM,
        action: 'changed',
        desired_rate: sample.desired_rate,
      }),
    ]);
    expect(after.json.sampling_rate).toBe(sample.desired_rate);
    expect(
      stack
        .serviceLines()
        .filter((line) => line.correlation_id === requestId && line.audit === true),
    ).toEqual([
      expect.objectContaining({
        actor: { kind: 'http', name: 'local-dev' },
        context: expect.objectContaining({ cause: 'apply', rule: 'sandbox-example' }),
        changes: { sampling_rate: { before: 0.33, after: sample.desired_rate } },
      }),
    ]);
  });

  it('holds 200 concurrent requests, every answer correct', async () => {
    // ngrok's (and the sandbox's) 120 requests a minute would answer most of them 429.
    await control(stack.sandboxUrl, 'PATCH', '/config', { rate_limit: false });
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, index) =>
        index % 4 === 3
          ? call('GET', `/event-streams/${SAMPLE_STREAM}`, { token: 'nes_not-a-caller' })
          : call('GET', `/event-streams/${SAMPLE_STREAM}`),
      ),
    );

    for (const [index, answer] of answers.entries()) {
      if (index % 4 === 3) expectProblem(answer, 401);
      else {
        expect(answer.status).toBe(200);
        expect(answer.json.id).toBe(SAMPLE_STREAM);
      }
    }
    expect(new Set(answers.map((answer) => answer.headers.get('x-request-id'))).size).toBe(200);
    await control(stack.sandboxUrl, 'PATCH', '/config', {
      rate_limit: { limit: 120, window_seconds: 60 },
    });
  });

  it('refuses what the deployed service refuses: a JSON string, no Content-Type, two Authorization headers', async () => {
    const body = JSON.stringify(newStream());
    const jsonString = await call('POST', '/event-streams', { rawBody: JSON.stringify(body) });
    const untyped = await fetch(`${stack.apiUrl}/event-streams`, {
      method: 'POST',
      headers: { authorization: `Bearer ${SAMPLE_TOKEN}` },
      body: new Blob([body]),
    });
    const { hostname, port } = new URL(stack.apiUrl);
    const twice = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        {
          hostname,
          port,
          path: '/event-streams',
          headers: [
            ['host', `${hostname}:${port}`],
            ['authorization', 'Bearer nes_someone-else'],
            ['authorization', `Bearer ${SAMPLE_TOKEN}`],
          ].flat(),
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end();
    });
    const nowhere = await call('GET', '/no-such-route');

    expectProblem(jsonString, 400);
    expect(jsonString.json.errors).toEqual([{ field: 'body', message: 'must be a JSON object' }]);
    expect(untyped.status).toBe(415);
    expect(twice).toBe(401);
    expect(nowhere.status).toBe(404);
    expect(nowhere.json).toEqual({ message: 'Not Found' });
    expect(await ngrokCalls()).toEqual([]);
  });

  it('answers 400 to Object.prototype names in the query, and keeps serving after clients that go away mid-body or break the framing', async () => {
    const constructorName = await call('GET', '/event-streams?constructor=1');
    const proto = await call('GET', '/event-streams?__proto__=1&limit=1');
    const upstream = await ngrokCalls();
    const port = Number(new URL(stack.apiUrl).port);
    const head = [
      'POST /event-streams HTTP/1.1',
      `Host: 127.0.0.1:${port}`,
      `Authorization: Bearer ${SAMPLE_TOKEN}`,
      'Content-Type: application/json',
    ].join('\r\n');
    // More body announced than sent, and the client goes away.
    await rawExchange(port, [`${head}\r\nContent-Length: 100\r\n\r\n{"event_type":`], {
      kind: 'destroy',
    });
    const badChunk = await rawExchange(port, [
      `${head}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
    ]);
    const after = await call('GET', `/event-streams/${SAMPLE_STREAM}`);

    for (const [reply, field] of [
      [constructorName, 'query.constructor'],
      [proto, 'query.__proto__'],
    ] as const) {
      expectProblem(reply, 400);
      expect(reply.json.errors).toEqual([{ field, message: 'is not a known field' }]);
    }
    expect(upstream).toEqual([]);
    expect(badChunk.status).toBe(400);
    expect(after.status).toBe(200);
    expect(after.json.id).toBe(SAMPLE_STREAM);
    expect(stack.process.exitCode).toBeNull();
  });

  it('runs each sample event with `serverless invoke local` against the running sandbox', async () => {
    const invokeOne = (name: string) =>
      new Promise<[number, string]>((resolve) => {
        const child = spawnTracked(process.execPath, [join(ROOT, 'scripts', 'invoke.ts'), name], {
          cwd: ROOT,
          // No SANDBOX_PORT: it finds the running stack's sandbox by itself, by its PORT.
          env: { ...process.env, SANDBOX_PORT: '', PORT: new URL(stack.apiUrl).port },
        });
        let stdout = '';
        child.stdout?.on('data', (chunk) => {
          stdout += chunk;
        });
        child.stderr?.resume();
        child.on('close', () =>
          resolve([
            Number(/"statusCode": (\d+)/.exec(stdout)?.[1] ?? 0),
            stdout.replaceAll('\\"', '"'),
          ]),
        );
      });
    // Side by side where the events do not depend on each other; the delete last.
    const reads = [
      'getEventStream',
      'updateEventStream',
      'createEventStream',
      'getSamplingPlan',
      'applySampling',
      'listEventStreams',
      'listEventDestinations',
      'getOpenApi',
      'slackCommand',
    ];
    const first: [number, string][] = [];
    for (let index = 0; index < reads.length; index += 4) {
      first.push(...(await Promise.all(reads.slice(index, index + 4).map(invokeOne))));
    }
    const [boundary, worker] = await Promise.all([
      invokeOne('applySamplingSchedule'),
      invokeOne('slackWorker'),
    ]);
    const deleted = await invokeOne('deleteEventStream');

    expect(first.map(([status]) => status)).toEqual([200, 200, 201, 200, 200, 200, 200, 200, 200]);
    // The Slack command's sample (`get`), signed by npm run invoke with the running secret.
    expect(first[8]?.[1]).toContain(`*${SAMPLE_STREAM}* — sample stream`);
    expect(worker?.[1]).toContain('"posted": true');
    expect(deleted[0]).toBe(204);
    // The boundary's sample event: Monday 20:00 in Berlin ends business hours → 0.1.
    expect(boundary?.[1]).toMatch(/"(un)?changed": 1[,\n]/);
    expect(boundary?.[1]).toContain('"failed": 0');
    // The sample events are addressed to the running API: links in answers point at it.
    expect(first[0]?.[1]).toContain(`${stack.apiUrl}/event-streams/${SAMPLE_STREAM}`);
  });
});

describe('npm start: Idempotency-Key on POST /event-streams', () => {
  const create = (key: string, body = newStream({ description: `key ${key}` })) =>
    call('POST', '/event-streams', { body, headers: { 'Idempotency-Key': key } });

  /** Retries as a client should: again after `Retry-After` while the answer is 409. */
  async function createUntilAnswered(key: string, body = newStream({ description: `key ${key}` })) {
    const replies: Reply[] = [];
    for (let round = 0; round < 10; round++) {
      const reply = await create(key, body);
      replies.push(reply);
      if (reply.status !== 409) return replies;
      await sleep(Number(reply.headers.get('retry-after')) * 1000);
    }
    throw new Error('Still 409 after 10 tries');
  }

  async function streamsDescribed(description: string) {
    const { json } = await call('GET', '/event-streams');
    return json.event_streams.filter(
      (stream: { description: string }) => stream.description === description,
    );
  }

  it('replays a retry (Idempotent-Replayed), refuses the key with another body (422)', async () => {
    const key = `replay-${Date.now()}`;
    const first = await create(key);
    const retry = await create(key);
    const reused = await create(key, newStream({ description: 'something else' }));

    expect(first.status).toBe(201);
    expect(retry.status).toBe(201);
    expect(retry.json).toEqual(first.json);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expectProblem(reused, 422);
    expect(reused.json.type).toMatch(/:idempotency-key-reused$/);
    expect(await streamsDescribed(`key ${key}`)).toHaveLength(1);
  });

  it('tells a retry that comes while the first is running to wait (409, Retry-After)', async () => {
    const key = `in-flight-${Date.now()}`;
    await injectFault(stack.sandboxUrl, { method: 'POST', path: '/event_streams', delay_ms: 1500 });
    const first = create(key);
    await sleep(700);
    const during = await create(key);

    expectProblem(during, 409);
    expect(during.json.type).toMatch(/:idempotency-key-in-flight$/);
    expect(during.headers.get('retry-after')).toBe('1');
    expect((await first).status).toBe(201);
    expect((await create(key)).headers.get('idempotent-replayed')).toBe('true');
  });

  it('after a dropped answer, the retry answers 201 with the stream the lost create made: one stream', async () => {
    const key = `dropped-${Date.now()}`;
    await injectFault(stack.sandboxUrl, { method: 'POST', path: '/event_streams', drop: 'after' });
    const lost = await create(key);
    const replies = await createUntilAnswered(key);
    const made = await streamsDescribed(`key ${key}`);

    expectProblem(lost, 502);
    expect(replies.at(-1)?.status).toBe(201);
    expect(made).toHaveLength(1);
    expect(replies.at(-1)?.json.id).toBe(made[0].id);
    await stack.waitForLine((line) => line.audit === true && line.outcome === 'recovered');
  });

  it('after a timeout, retries until one succeeds leave exactly one stream', async () => {
    const key = `timeout-${Date.now()}`;
    // The function's deadline is about 2.7 s in (timeout=3); ngrok acts at 3.5 s.
    await injectFault(stack.sandboxUrl, { method: 'POST', path: '/event_streams', delay_ms: 3500 });
    const lost = await create(key);
    const replies = await createUntilAnswered(key);
    await sleep(1000);
    const made = await streamsDescribed(`key ${key}`);

    expectProblem(lost, 504);
    expect(replies.length).toBeGreaterThan(1);
    expect(replies.at(-1)?.status).toBe(201);
    expect(made).toHaveLength(1);
    expect(replies.at(-1)?.json.id).toBe(made[0].id);
  });
});

describe('npm start: sampling overrides, ended by the sandbox’s Scheduler', () => {
  beforeAll(async () => {
    // The sample stream, as npm start seeds it (a test above deletes it), and this file's key.
    await control(stack.sandboxUrl, 'POST', '/reset', { samples: true });
    await control(stack.sandboxUrl, 'PATCH', '/config', { api_keys: [apiKey] });
  });

  /** Invokes the sampling function as EventBridge Scheduler does, through the Lambda endpoint. */
  async function invokeSampling(event: unknown) {
    const invoked = await fetch(
      `http://127.0.0.1:${lambdaPort}/2015-03-31/functions/ngrok-event-streams-dev-applySamplingSchedule/invocations`,
      { method: 'POST', body: JSON.stringify(event) },
    );
    expect(invoked.status).toBe(200);
    return (await invoked.json()) as { streams: { id: string }[] };
  }

  async function schedules(): Promise<{ name: string }[]> {
    return (
      await control<{ schedules: { name: string }[] }>(
        stack.sandboxUrl,
        'GET',
        '/scheduler/schedules',
      )
    ).schedules;
  }

  it('a boundary while an override holds leaves the stream alone; ending it sets the schedule’s rate', async () => {
    const created = await call('POST', '/event-streams', {
      body: newStream({ description: 'sandbox-example/held', sampling_rate: 0.1 }),
    });
    const id = created.json.id as string;
    const set = await call('PUT', `/event-streams/${id}/sampling-override`, {
      body: { sampling_rate: 0.5, duration: 'PT2H', reason: 'load test' },
    });
    expect(set.status).toBe(200);
    expect(set.json.event_stream.sampling_rate).toBe(0.5);

    // A business-hours boundary of the shipped policy (its next one has not passed).
    const result = await invokeSampling({
      cause: 'boundary',
      rules: ['sandbox-example'],
      scheduled_time: '2030-01-07T07:00:00Z',
      execution_id: 'e2e-held',
    });

    expect(result.streams.find((each: { id: string }) => each.id === id)).toMatchObject({
      action: 'held',
      desired_rate: 0.5,
    });
    expect((await call('GET', `/event-streams/${id}`)).json.sampling_rate).toBe(0.5);
    const ended = await call('DELETE', `/event-streams/${id}/sampling-override`);
    expect(ended.status).toBe(200);
    expect(ended.json.sampling_rate).not.toBe(0.5);
    expect((await schedules()).filter((each) => each.name.includes(id))).toEqual([]);
    await call('DELETE', `/event-streams/${id}`);
  });

  it('from Slack: `sample … for 1m`, `overrides` and `release`, as `npm run slack` sends them', async () => {
    const slack = (text: string) =>
      spawnSync(process.execPath, [join(ROOT, 'scripts', 'slack.ts'), text], {
        cwd: ROOT,
        env: { ...process.env, PORT: new URL(stack.apiUrl).port },
        encoding: 'utf8',
        timeout: 90_000,
      });

    const set = slack(`sample ${SAMPLE_STREAM} 100% for 1m INC-1`);
    expect(set.status).toBe(0);
    expect(set.stdout).toMatch(/UTC/);
    expect(set.stdout).toContain('INC-1');
    expect((await call('GET', `/event-streams/${SAMPLE_STREAM}`)).json.sampling_rate).toBe(1);
    const listed = await call('GET', '/sampling/overrides');
    expect(listed.json.overrides).toEqual([
      expect.objectContaining({
        stream_id: SAMPLE_STREAM,
        reason: 'INC-1',
        actor: expect.objectContaining({ kind: 'slack' }),
      }),
    ]);
    expect(slack('overrides').stdout).toContain(SAMPLE_STREAM);

    const released = slack(`release ${SAMPLE_STREAM}`);
    expect(released.status).toBe(0);
    expect((await call('GET', '/sampling/overrides')).json.overrides).toEqual([]);
    expect((await call('GET', `/event-streams/${SAMPLE_STREAM}`)).json.sampling_rate).not.toBe(1);
    expect(await schedules()).toEqual([]);
  });

  it('a PT1M override on the sample stream sets it at once and ends by itself within 90 s', async () => {
    const set = await call('PUT', `/event-streams/${SAMPLE_STREAM}/sampling-override`, {
      body: { sampling_rate: 1, duration: 'PT1M', reason: 'INC-1' },
    });
    expect(set.status).toBe(200);
    expect(set.json.event_stream.sampling_rate).toBe(1);
    const { expires_at } = set.json.override;
    const then = set.json.then;
    expect(then).toMatchObject({ at: expires_at, source: 'schedule' });

    const plan = await call('GET', '/sampling/plan');
    expect(
      plan.json.streams.find((each: { id: string }) => each.id === SAMPLE_STREAM),
    ).toMatchObject({
      override: expect.objectContaining({ key: 'manual', expires_at }),
      desired_rate: 1,
      action: 'held',
      next_change: expect.objectContaining({ at: expires_at, rate: then.sampling_rate }),
    });
    const listed = await call('GET', '/sampling/overrides');
    expect(listed.json.overrides).toEqual([
      expect.objectContaining({ stream_id: SAMPLE_STREAM, expires_at, state: 'holding' }),
    ]);
    expect(await schedules()).toHaveLength(1);

    const deadline = Date.parse(expires_at) + 90_000;
    let rate = 1;
    while (Date.now() < deadline) {
      rate = (await call('GET', `/event-streams/${SAMPLE_STREAM}`)).json.sampling_rate;
      if (rate === then.sampling_rate) break;
      await sleep(2_000);
    }

    expect(rate).toBe(then.sampling_rate);
    await stack.waitForLine(
      (line) =>
        line.action === 'sampling_override.end' &&
        (line.context as { cause?: string }).cause === 'expired',
    );
    const ends = stack
      .serviceLines()
      .filter((line) => line.audit === true && line.stream_id === SAMPLE_STREAM)
      .filter((line) => line.action === 'sampling_override.end')
      .filter((line) => (line.context as { cause?: string }).cause === 'expired');
    expect(ends).toEqual([
      expect.objectContaining({
        context: expect.objectContaining({ cause: 'expired', reason: 'INC-1' }),
        changes: { sampling_rate: { before: 1, after: then.sampling_rate } },
      }),
    ]);
    expect(await schedules()).toEqual([]);
    expect((await call('GET', '/sampling/overrides')).json.overrides).toEqual([]);
  });
});

describe('npm start: alerts raise the sample stream (npm run alert, npm run pagerduty)', () => {
  beforeAll(async () => {
    await control(stack.sandboxUrl, 'POST', '/reset', { samples: true });
    await control(stack.sandboxUrl, 'PATCH', '/config', { api_keys: [apiKey] });
  });

  const run = (script: string, ...args: string[]) =>
    spawnSync(process.execPath, [join(ROOT, 'scripts', script), ...args], {
      cwd: ROOT,
      env: { ...process.env, PORT: new URL(stack.apiUrl).port },
      encoding: 'utf8',
      timeout: 60_000,
    });
  const answerOf = (stdout: string) => JSON.parse(stdout.slice(stdout.indexOf('\n') + 1));
  const rate = async () =>
    (await call('GET', `/event-streams/${SAMPLE_STREAM}`)).json.sampling_rate;
  const overrides = async () => (await call('GET', '/sampling/overrides')).json.overrides;

  it('Alertmanager: firing raises at once, a repeat extends, resolved puts it back', async () => {
    const labels = ['--labels', 'service=checkout,severity=critical', '--alertname', 'E2eCheckout'];
    const scheduled = (await call('GET', '/sampling/plan')).json.streams.find(
      (each: { id: string }) => each.id === SAMPLE_STREAM,
    ).desired_rate;

    const fired = run('alert.ts', 'firing', ...labels);
    expect(fired.status).toBe(0);
    expect(answerOf(fired.stdout).alerts[0]).toMatchObject({
      outcome: 'override-set',
      incidents: ['sandbox-checkout'],
    });
    expect(await rate()).toBe(1);
    expect(await overrides()).toEqual([
      expect.objectContaining({
        stream_id: SAMPLE_STREAM,
        key: expect.stringMatching(/^alertmanager:/),
        actor: { kind: 'alertmanager', name: 'E2eCheckout' },
      }),
    ]);

    const repeated = run('alert.ts', 'firing', ...labels);
    expect(answerOf(repeated.stdout).alerts[0].outcome).toBe('override-extended');
    expect(await overrides()).toHaveLength(1);

    const resolved = run('alert.ts', 'resolved', ...labels);
    expect(answerOf(resolved.stdout).alerts[0].outcome).toBe('override-ended');
    expect(await overrides()).toEqual([]);
    expect(await rate()).toBe(scheduled);
  });

  it('PagerDuty: triggered raises, resolved puts it back; an unsigned or wrongly signed delivery changes nothing', async () => {
    const forged = run('pagerduty.ts', 'triggered', '--unsigned');
    const wrong = run('pagerduty.ts', 'triggered', '--secret', 'not-the-secret');
    expect([forged.status, wrong.status]).toEqual([1, 1]);
    expect(forged.stdout).toContain('HTTP 401');
    expect(wrong.stdout).toContain('HTTP 401');
    expect(await overrides()).toEqual([]);

    const triggered = run('pagerduty.ts', 'triggered', '--service', 'PABC123');
    expect(triggered.status).toBe(0);
    const incident = /\(incident (\w+)\)/.exec(triggered.stdout)?.[1] as string;
    expect(answerOf(triggered.stdout).outcome).toBe('override-set');
    expect(await rate()).toBe(1);
    expect(await overrides()).toEqual([
      expect.objectContaining({
        key: `pagerduty:${incident}`,
        actor: expect.objectContaining({ kind: 'pagerduty' }),
      }),
    ]);

    const resolved = run('pagerduty.ts', 'resolved', '--incident', incident);
    expect(answerOf(resolved.stdout).outcome).toBe('override-ended');
    expect(await overrides()).toEqual([]);
    expect(await rate()).not.toBe(1);
  });
});

describe('npm start with NGROK_API_KEY', () => {
  it('talks to the ngrok API at NGROK_API_URL with that key, not to its own sandbox', async () => {
    const { startSandbox } = await import('../../sandbox/server.ts');
    const upstream = await startSandbox({ apiKeys: ['real-looking-key'], rateLimit: false });
    const token = newCallerToken();
    registerSecret(token, 'real-looking-key');
    const otherLambdaPort = await freePort();
    const other = await startLocalStack(
      { NGROK_API_KEY: 'real-looking-key', NGROK_API_URL: upstream.url, DEV_API_TOKEN: token },
      ['--lambdaPort', String(otherLambdaPort)],
    );
    const slackHelp = (port?: string) =>
      spawnSync(process.execPath, [join(ROOT, 'scripts', 'slack.ts'), 'help'], {
        cwd: ROOT,
        env: { ...process.env, PORT: port ?? '' },
        encoding: 'utf8',
        timeout: 60_000,
      });
    const mine = new URL(stack.apiUrl).port;
    const theirs = new URL(other.apiUrl).port;
    try {
      const reply = await fetch(`${other.apiUrl}/event-streams`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const lambdaListening = await listening(otherLambdaPort);
      // Two stacks in one folder: each has its state; a command picks one by PORT.
      const unnamed = slackHelp();
      const named = slackHelp(mine);
      const reset = spawnSync(process.execPath, [join(ROOT, 'scripts', 'sandbox-reset.ts')], {
        cwd: ROOT,
        env: { ...process.env, PORT: theirs },
        encoding: 'utf8',
      });
      const stopped = await other.stop();
      const afterStop = slackHelp();

      expect(unnamed.status).toBe(1);
      expect(unnamed.stderr).toMatch(/^Local stacks run in this folder on PORT \d+, \d+: set PORT/);
      expect(unnamed.stderr).toContain(mine);
      expect(unnamed.stderr).toContain(theirs);
      expect(named.status).toBe(0);
      expect(reset.status).toBe(1);
      expect(reset.stderr).toContain('talks to the real ngrok API (NGROK_API_KEY)');
      // Stopping the second leaves the first's state: the only stack now, found without PORT.
      expect(afterStop.status).toBe(0);
      expect(afterStop.stdout).toContain('/eventstreams');

      expect(reply.status).toBe(200);
      expect(other.output()).not.toMatch(/multiple/i);
      expect(upstream.requests.filter((entry) => entry.api === 'ngrok')).toHaveLength(1);
      expect(other.output()).toContain(`${upstream.url} (real, NGROK_API_KEY)`);
      expect(other.output()).not.toContain('real-looking-key');
      expect(stopped).toBe(0);
      expect(lambdaListening).toBe(true);
    } finally {
      await other.stop();
      await upstream.close();
    }
  });
});

describe('npm start and npm run invoke, when something is in the way', () => {
  it('refuses a PORT in use before printing anything, naming the port', async () => {
    const blocker = createServer();
    const port = await new Promise<number>((resolve) =>
      blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as { port: number }).port)),
    );
    try {
      const run = spawnSync(process.execPath, [join(ROOT, 'scripts', 'start.ts')], {
        cwd: ROOT,
        env: { ...process.env, PORT: String(port), SANDBOX_PORT: String(await freePort()) },
        encoding: 'utf8',
        timeout: 30_000,
      });

      expect(run.status).toBe(1);
      expect(run.stderr).toContain(`Port ${port} is in use (PORT)`);
      expect(run.stdout).toBe('');
    } finally {
      blocker.close();
    }
  });

  it('npm run invoke says where it looked for the sandbox, and how to start one', async () => {
    const port = await freePort();
    const run = spawnSync(
      process.execPath,
      [join(ROOT, 'scripts', 'invoke.ts'), 'getEventStream'],
      {
        cwd: ROOT,
        env: { ...process.env, SANDBOX_PORT: String(port) },
        encoding: 'utf8',
        timeout: 30_000,
      },
    );

    expect(run.status).toBe(1);
    expect(run.stderr).toContain(
      `No local stack's sandbox answers on http://127.0.0.1:${port} (SANDBOX_PORT)`,
    );
    expect(run.stderr).toContain('npm start');
  });

  it('stops everything when npm itself is told to stop (not only on Ctrl-C)', async () => {
    const sandboxPort = await freePort();
    const npm = spawnTracked('npm', ['start'], {
      cwd: ROOT,
      env: {
        ...process.env,
        PORT: String(await freePort()),
        SANDBOX_PORT: String(sandboxPort),
        SANDBOX_QUIET: '1',
      },
      stdio: 'ignore',
    });
    const offlineRuns = () =>
      treeProcesses(npm).some((each) => /serverless\.js offline start/.test(each.command));
    try {
      const until = Date.now() + 30_000;
      while (!((await listening(sandboxPort)) && offlineRuns()) && Date.now() < until) {
        await sleep(100);
      }
      expect(await listening(sandboxPort)).toBe(true);
      expect(offlineRuns()).toBe(true);

      npm.kill('SIGTERM');

      const gone = Date.now() + 10_000;
      while (treeProcesses(npm).length > 0 && Date.now() < gone) await sleep(100);
      expect(await listening(sandboxPort)).toBe(false);
      expect(treeProcesses(npm)).toEqual([]);
    } finally {
      await endTree(npm);
    }
  });
});

describe('the tests’ local stacks', () => {
  it('end a stack that is not ready in time, with all it started', async () => {
    const port = await freePort();
    const started = Date.now();
    const failure = await startLocalStack({ PORT: String(port) }, [], 3_000).catch(
      (error: Error) => error,
    );
    // Its processes carry its PORT in their environment (serverless offline's too).
    const runMarker = process.env[RUN_MARKER] as string;
    const left = processesWith('PORT', String(port)).filter((each) =>
      processesWith(RUN_MARKER, runMarker).some((marked) => marked.pid === each.pid),
    );
    rmSync(join(ROOT, '.esbuild-offline', String(port)), { recursive: true, force: true });

    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toMatch(/^npm start was not ready in time/);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(left).toEqual([]);
  });
});

// Ends the stack the tests above share (and every test's beforeEach uses): the last.
describe('npm start, killed (SIGKILL: no handler of its own runs)', () => {
  it('takes serverless offline with it, its ports freed, within seconds', async () => {
    const pid = stack.process.pid as number;
    const before = stack.processes();

    process.kill(pid, 'SIGKILL');
    const until = Date.now() + 5_000;
    while (stack.processes().length > 0 && Date.now() < until) await sleep(100);
    const after = stack.processes();
    const lambdaListening = await listening(lambdaPort);
    // What only a clean stop removes.
    rmSync(join(ROOT, '.esbuild-offline', new URL(stack.apiUrl).port), {
      recursive: true,
      force: true,
    });
    const stateFile = join(ROOT, '.local-stack', `stack-${new URL(stack.apiUrl).port}.json`);
    const state = parseJsonOrUndefined(
      existsSync(stateFile) ? readFileSync(stateFile, 'utf8') : '',
    );
    if ((state as { pid?: number } | undefined)?.pid === pid) rmSync(stateFile);

    expect(before.map((each) => each.command)).toContainEqual(
      expect.stringMatching(/serverless\.js offline start .*--lambdaPort/),
    );
    expect(after).toEqual([]);
    expect(lambdaListening).toBe(false);
  });
});
