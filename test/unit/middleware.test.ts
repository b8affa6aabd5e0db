/**
 * lib/middleware/*.ts, one `describe` per file: each middleware in a bare middy chain with only
 * itself (and `problemDetails` where the answer matters), driven by a hand-made API Gateway HTTP
 * API event and Lambda context. What is checked is what a caller or an operator notices: the
 * answer, what the handler gets, the request line and its metrics, and that a refused request goes
 * no further. `serviceSecret` (lib/middleware/service-secret.ts) reads the secret from Secrets
 * Manager: it is left to the tests against the sandbox (test/unit/route.test.ts,
 * test/integration/secret-cache.test.ts, functions.test.ts).
 */
import crypto from 'node:crypto';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import * as z from 'zod/mini';
import { newCallerToken, sha256Hex } from '../../lib/auth/tokens.ts';
import { PROBLEM_TYPE_PREFIX, problem } from '../../lib/http/problem.ts';
import { apiGatewayEvent, isApiGatewayV2Event } from '../../lib/middleware/api-event.ts';
import { authorize, bearerToken } from '../../lib/middleware/bearer-auth.ts';
import { bodyLimit } from '../../lib/middleware/body-limit.ts';
import { formBody } from '../../lib/middleware/form-body.ts';
import { isJsonUtf8, jsonBody } from '../../lib/middleware/json-body.ts';
import { problemDetails, recordProblem } from '../../lib/middleware/problem-details.ts';
import { REQUEST_ID_HEADER, requestLog } from '../../lib/middleware/request-log.ts';
import { rawBody, type SignatureScheme, signedBody } from '../../lib/middleware/signed-body.ts';
import type {
  ApiContext,
  ApiInternal,
  ApiMiddleware,
  ApiRequest,
} from '../../lib/middleware/types.ts';
import { validateInput } from '../../lib/middleware/validate-input.ts';
import { NgrokApiError } from '../../lib/ngrok/errors.ts';
import { metrics } from '../../lib/observability/metrics.ts';
import type { ServiceSecret } from '../../lib/secrets/service-secret.ts';
import {
  type Answer,
  type ApiEventOptions,
  apiEvent,
  invoke,
  lambdaContext,
} from '../helpers/lambda.ts';
import { registerSecret, serviceLogs } from '../helpers/logs.ts';

type Result = APIGatewayProxyStructuredResultV2;

const REQUEST_ID = 'req-unit-1';

/** A Lambda context as the middlewares before the one under test would leave it. */
function apiContext(more: Partial<ApiContext> = {}): ApiContext {
  return Object.assign(
    lambdaContext(),
    { record: { requestId: REQUEST_ID, started: performance.now(), ngrokCalls: [] } },
    more,
  ) as ApiContext;
}

/** A hand-made request, its headers as API Gateway sends them (lower case). */
function event(options: Partial<ApiEventOptions> = {}): APIGatewayProxyEventV2 {
  return apiEvent({ method: 'POST', route: '/things', ...options });
}

interface Reached {
  event: APIGatewayProxyEventV2;
  context: ApiContext;
  internal: Record<string, unknown>;
}

/**
 * Sends `sent` through the middlewares, then through a last one that notes what reached it, then
 * the handler (200 'handled' unless `handle` says otherwise).
 */
async function through(
  middlewares: ApiMiddleware[],
  sent: unknown,
  {
    context = apiContext(),
    handle = async () => ({ statusCode: 200, body: 'handled' }),
  }: {
    context?: ApiContext;
    handle?: (event: APIGatewayProxyEventV2, context: ApiContext) => Promise<Result>;
  } = {},
) {
  let reached: Reached | undefined;
  let internalAtEnd: Record<string, unknown> | undefined;
  const next: ApiMiddleware = {
    before: (request) => {
      reached = {
        event: request.event,
        context: request.context,
        internal: { ...request.internal },
      };
    },
    onError: (request) => {
      internalAtEnd = { ...request.internal };
    },
  };
  const handler = middy<APIGatewayProxyEventV2, Result, Error, ApiContext, ApiInternal>()
    .use([...middlewares, next])
    .handler((event, context) => handle(event, context));
  const answer = await invoke(handler, sent as APIGatewayProxyEventV2, context);
  return { answer, reached, context, internalAtEnd };
}

function expectProblem(answer: Answer, status: number, kind: string) {
  expect(answer.status).toBe(status);
  expect(answer.headers['content-type']).toBe('application/problem+json');
  expect(answer.json).toMatchObject({ type: `${PROBLEM_TYPE_PREFIX}${kind}`, status });
}

// First: the container's first request (of this file) is its cold start, once.
describe('requestLog (request-log.ts)', () => {
  const OPERATION = 'unitOperation';

  async function logged(
    middlewares: ApiMiddleware[],
    sent: unknown,
    options: Parameters<typeof through>[2] = {},
  ) {
    const mark = serviceLogs.mark();
    const run = await through(
      [logMetrics(metrics), requestLog({ operation: OPERATION }), ...middlewares],
      sent,
      options,
    );
    const lines = serviceLogs.since(mark);
    return {
      ...run,
      requests: lines.filter((line) => line.message === 'request'),
      emf: lines.filter((line) => '_aws' in line),
    };
  }

  function withRequestId(requestId: unknown) {
    const sent = event();
    (sent.requestContext as { requestId: unknown }).requestId = requestId;
    return sent;
  }

  it('counts a cold start on the container’s first request only', async () => {
    const first = await logged([], event());
    const second = await logged([], event());

    expect(first.emf).toHaveLength(1);
    expect(first.emf[0]).toMatchObject({ ColdStart: 1, operation: OPERATION, Requests: 1 });
    expect(second.emf).toHaveLength(1);
    expect(second.emf[0]).not.toHaveProperty('ColdStart');
  });

  it('writes one INFO line for a success, with the route, caller, status, stream and ngrok calls', async () => {
    const call = { operation: 'event_streams.get', status: 200, attempts: 1, duration_ms: 3 };

    const { answer, requests } = await logged([], withRequestId('Jz-KvXjN=+/_.'), {
      handle: async (_event, context) => {
        context.callerName = 'dashboard';
        context.input = { path: { id: 'es_from_path' }, query: {}, body: undefined };
        context.record.ngrokCalls.push(call);
        return { statusCode: 201, headers: { 'Content-Type': 'application/json' }, body: '{}' };
      },
    });

    expect(answer.status).toBe(201);
    expect(answer.headers).toMatchObject({
      'content-type': 'application/json',
      [REQUEST_ID_HEADER]: 'Jz-KvXjN=+/_.',
    });
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({
      level: 'INFO',
      correlation_id: 'Jz-KvXjN=+/_.',
      route: 'POST /things',
      caller: 'dashboard',
      status: 201,
      stream_id: 'es_from_path',
      duration_ms: expect.any(Number),
      ngrok_calls: [call],
    });
    expect(requests[0]).not.toHaveProperty('error');
    expect(requests[0]).not.toHaveProperty('kind');
  });

  it('names the stream a request learnt of (a create), when its path has none', async () => {
    const { requests } = await logged([], event(), {
      handle: async (_event, context) => {
        context.record.streamId = 'es_created';
        return { statusCode: 201 };
      },
    });

    expect(requests[0]).toMatchObject({ stream_id: 'es_created', status: 201 });
  });

  it('uses the Lambda request id when API Gateway’s is missing, malformed or serverless offline’s placeholder', async () => {
    for (const requestId of [
      undefined,
      42,
      '',
      'has space',
      'x'.repeat(129),
      'offlineContext_requestId',
      'a\nb',
    ]) {
      const { answer, requests } = await logged([problemDetails()], withRequestId(requestId), {
        handle: async () => {
          throw problem('not-found', 'No such thing.');
        },
      });

      expect(answer.headers[REQUEST_ID_HEADER]).toBe('aws-request-id');
      expect(answer.json.instance).toBe('aws-request-id');
      expect(requests[0]?.correlation_id).toBe('aws-request-id');
    }
    const kept = await logged([], withRequestId('x'.repeat(128)));
    expect(kept.answer.headers[REQUEST_ID_HEADER]).toBe('x'.repeat(128));
  });

  it('reports a refusal at INFO with its status, kind and note, and the request id on the problem', async () => {
    const { answer, requests } = await logged([problemDetails()], withRequestId('req-refused'), {
      handle: async () => {
        throw problem('unauthorized', 'Not signed.', {}, { note: 'timestamp too old' });
      },
    });

    expectProblem(answer, 401, 'unauthorized');
    expect(answer.headers[REQUEST_ID_HEADER]).toBe('req-refused');
    expect(answer.json.instance).toBe('req-refused');
    expect(answer.body).not.toContain('timestamp');
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({
      level: 'INFO',
      status: 401,
      kind: 'unauthorized',
      note: 'timestamp too old',
    });
    expect(requests[0]).not.toHaveProperty('error');
  });

  it('reports a failure (5xx) at ERROR, with the error the caller is not shown', async () => {
    const { answer, requests } = await logged([problemDetails()], event(), {
      handle: async () => {
        throw new TypeError('cannot read properties of undefined (reading "id")');
      },
    });

    expectProblem(answer, 500, 'internal-error');
    expect(answer.body).not.toContain('cannot read');
    expect(requests[0]).toMatchObject({
      level: 'ERROR',
      status: 500,
      kind: 'internal-error',
      error: { name: 'TypeError', message: expect.stringContaining('cannot read properties') },
    });
  });

  it('writes the request’s metrics: one request, its latency, upstream errors and retries', async () => {
    const calls = [
      { operation: 'a', status: 200, attempts: 3, duration_ms: 1 },
      { operation: 'b', status: 404, attempts: 1, duration_ms: 1, error: 'NgrokApiError' },
      { operation: 'c', status: 400, attempts: 1, duration_ms: 1, error: 'NgrokApiError' },
      { operation: 'd', status: 503, attempts: 4, duration_ms: 1, error: 'NgrokApiError' },
      { operation: 'e', attempts: 2, duration_ms: 1, error: 'NgrokNetworkError' },
    ];

    const { emf } = await logged([], event(), {
      handle: async (_event, context) => {
        context.record.ngrokCalls.push(...calls);
        return { statusCode: 200 };
      },
    });

    expect(emf).toHaveLength(1);
    expect(emf[0]).toMatchObject({
      operation: OPERATION,
      Requests: 1,
      Latency: expect.any(Number),
      // d (503) and e (no answer): the upstream's trouble; b (404) and c (400) are the caller's.
      UpstreamErrors: 2,
      // a: 2, d: 3, e: 1.
      UpstreamRetries: 6,
    });
  });
});

describe('apiGatewayEvent (api-event.ts)', () => {
  it('lets an API Gateway HTTP API (payload 2.0) event through as it is', async () => {
    const sent = event({ query: { limit: '2' }, pathParameters: { id: 'es_1' }, rawBody: '{}' });

    const { answer, reached } = await through([problemDetails(), apiGatewayEvent()], sent);

    expect(answer.status).toBe(200);
    expect(reached?.event).toBe(sent);
  });

  it('takes what API Gateway may leave out or null', () => {
    const minimal = event();
    delete (minimal as Partial<APIGatewayProxyEventV2>).headers;
    Object.assign(minimal, { body: null, queryStringParameters: null, pathParameters: null });

    expect(isApiGatewayV2Event(minimal)).toBe(true);
  });

  it('refuses anything else with 400 malformed-event before anything reads it', async () => {
    const good = event();
    const http = good.requestContext.http;
    const malformed: Record<string, unknown> = {
      'nothing at all': undefined,
      null: null,
      'a string': 'GET /event-streams',
      'an array': [good],
      'payload 1.0 (REST API)': { ...good, version: '1.0' },
      'no route key': { ...good, routeKey: undefined },
      'no request context': { ...good, requestContext: undefined },
      'no HTTP method': {
        ...good,
        requestContext: { ...good.requestContext, http: { ...http, method: 7 } },
      },
      'headers that are a string': { ...good, headers: 'authorization: x' },
      'a header with many values': { ...good, headers: { authorization: ['a', 'b'] } },
      'a number in the query': { ...good, queryStringParameters: { limit: 2 } },
      'path parameters as an array': { ...good, pathParameters: ['es_1'] },
      'a body that is an object': { ...good, body: { sampling_rate: 1 } },
    };

    for (const [what, sent] of Object.entries(malformed)) {
      const { answer, reached } = await through([problemDetails(), apiGatewayEvent()], sent);

      expect({ what, status: answer.status, reached }).toEqual({
        what,
        status: 400,
        reached: undefined,
      });
      expectProblem(answer, 400, 'malformed-event');
      expect(answer.json.instance).toBe(REQUEST_ID);
    }
  });
});

describe('bearerToken and authorize (bearer-auth.ts)', () => {
  const write = newCallerToken();
  const read = newCallerToken();
  registerSecret(write, read);
  const secret: ServiceSecret = {
    ngrok_api_key: 'not-used-here',
    callers: [
      { name: 'ci', token_sha256: sha256Hex(write), scopes: ['read', 'write'] },
      { name: 'dashboard', token_sha256: sha256Hex(read), scopes: ['read'] },
    ],
  };

  function withAuthorization(value: string | undefined) {
    return event({ headers: value === undefined ? {} : { authorization: value } });
  }

  function auth(value: string | undefined, scope: 'read' | 'write' = 'write') {
    return through(
      [problemDetails(), bearerToken(), authorize({ scope })],
      withAuthorization(value),
      { context: apiContext({ serviceSecret: secret }) },
    );
  }

  afterEach(() => jest.restoreAllMocks());

  it('refuses without `Authorization: Bearer <token>` with 401 and a Bearer challenge', async () => {
    for (const value of [
      undefined,
      '',
      'Basic dXNlcjpwYXNz',
      'Bearer',
      'Bearer ',
      'Bearer two words',
      'Bearer tökén',
      'Token abc',
    ]) {
      const { answer, reached } = await through(
        [problemDetails(), bearerToken()],
        withAuthorization(value),
      );

      expect({ value, status: answer.status, reached }).toEqual({
        value,
        status: 401,
        reached: undefined,
      });
      expectProblem(answer, 401, 'unauthorized');
      expect(answer.json.detail).toBe('Send the header Authorization: Bearer <token>.');
      expect(answer.headers['www-authenticate']).toBe('Bearer realm="ngrok-event-streams"');
    }
  });

  it('takes the token however the scheme is spelt and spaced, for the next middleware', async () => {
    for (const value of ['Bearer abc~!', 'bearer abc~!', 'BEARER   abc~!  ']) {
      const { reached } = await through(
        [problemDetails(), bearerToken()],
        withAuthorization(value),
      );

      expect(reached?.internal.bearerToken).toBe('abc~!');
    }
  });

  it('lets in a caller whose token has the route’s scope, names it, and forgets the token', async () => {
    const writer = await auth(`Bearer ${write}`, 'write');
    const reader = await auth(`Bearer ${read}`, 'read');

    expect(writer.answer.status).toBe(200);
    expect(writer.reached?.context.callerName).toBe('ci');
    expect(writer.reached?.internal.bearerToken).toBe('');
    expect(reader.reached?.context.callerName).toBe('dashboard');
  });

  it('refuses a token no caller has with 401, and forgets it', async () => {
    const { answer, reached, context, internalAtEnd } = await auth(`Bearer ${newCallerToken()}`);

    expectProblem(answer, 401, 'unauthorized');
    expect(answer.json.detail).toBe('The bearer token is not valid.');
    expect(answer.headers['www-authenticate']).toBe('Bearer realm="ngrok-event-streams"');
    expect(reached).toBeUndefined();
    expect(context.callerName).toBeUndefined();
    expect(internalAtEnd?.bearerToken).toBe('');
  });

  it('refuses a caller without the route’s scope with 403 insufficient_scope', async () => {
    const { answer, reached } = await auth(`Bearer ${read}`, 'write');

    expectProblem(answer, 403, 'forbidden');
    expect(answer.headers['www-authenticate']).toBe(
      'Bearer realm="ngrok-event-streams", error="insufficient_scope", scope="write"',
    );
    expect(reached).toBeUndefined();
  });

  it('compares the token with every caller’s hash in constant time, whichever matches', async () => {
    const compare = jest.spyOn(crypto, 'timingSafeEqual');

    await auth(`Bearer ${write}`);
    const whenFirst = compare.mock.calls.length;
    compare.mockClear();
    await auth(`Bearer ${newCallerToken()}`);
    const whenNone = compare.mock.calls.length;

    expect(whenFirst).toBe(secret.callers.length);
    expect(whenNone).toBe(secret.callers.length);
  });

  it('lets in the first of two callers with the same token', async () => {
    const twice: ServiceSecret = {
      ...secret,
      callers: [
        { name: 'first', token_sha256: sha256Hex(write), scopes: ['write'] },
        { name: 'second', token_sha256: sha256Hex(write), scopes: ['read', 'write'] },
      ],
    };

    const { reached } = await through(
      [problemDetails(), bearerToken(), authorize({ scope: 'write' })],
      withAuthorization(`Bearer ${write}`),
      { context: apiContext({ serviceSecret: twice }) },
    );

    expect(reached?.context.callerName).toBe('first');
  });
});

describe('bodyLimit (body-limit.ts)', () => {
  const limited = (sent: APIGatewayProxyEventV2) =>
    through([problemDetails(), bodyLimit({ maxBytes: 8 })], sent);

  it('lets a body of up to maxBytes through, and a request without one', async () => {
    for (const sent of [event({ rawBody: '12345678' }), event(), event({ rawBody: '' })]) {
      expect((await limited(sent)).answer.status).toBe(200);
    }
    const withNull = event();
    Object.assign(withNull, { body: null });
    expect((await limited(withNull)).answer.status).toBe(200);
  });

  it('refuses one byte more with 413, before the next middleware', async () => {
    const { answer, reached } = await limited(event({ rawBody: '123456789' }));

    expectProblem(answer, 413, 'payload-too-large');
    expect(answer.json.detail).toBe('The body may be at most 8 bytes.');
    expect(reached).toBeUndefined();
  });

  it('counts bytes in UTF-8, not characters', async () => {
    expect((await limited(event({ rawBody: 'éééé' }))).answer.status).toBe(200);
    expect((await limited(event({ rawBody: 'ééééé' }))).answer.status).toBe(413);
  });

  it('counts a base64-encoded body as its decoded bytes, as they were sent', async () => {
    const eight = Buffer.alloc(8, 0xff).toString('base64');
    const nine = Buffer.alloc(9, 0xff).toString('base64');

    expect(eight.length).toBeGreaterThan(8);
    expect((await limited(event({ rawBody: eight, isBase64Encoded: true }))).answer.status).toBe(
      200,
    );
    expect((await limited(event({ rawBody: nine, isBase64Encoded: true }))).answer.status).toBe(
      413,
    );
  });
});

describe('jsonBody (json-body.ts)', () => {
  const json = (sent: APIGatewayProxyEventV2, optional = false) =>
    through([problemDetails(), jsonBody({ optional })], sent);

  const withType = (contentType: string | undefined, body: string | undefined) =>
    event({
      headers: contentType === undefined ? {} : { 'content-type': contentType },
      ...(body === undefined ? {} : { rawBody: body }),
    });

  it('parses a JSON body in UTF-8 however its Content-Type spells it', async () => {
    for (const contentType of [
      'application/json',
      'application/json; charset=utf-8',
      'application/json;charset=UTF-8',
      ' Application/JSON ; Charset="UTF8"',
      'application/json; version=2',
    ]) {
      const { reached } = await json(withType(contentType, '{"sampling_rate":0.5,"d":"é"}'));

      expect({ contentType, body: reached?.event.body }).toEqual({
        contentType,
        body: { sampling_rate: 0.5, d: 'é' },
      });
    }
  });

  it('refuses another type or charset with 415, before the next middleware', async () => {
    for (const contentType of [
      undefined,
      'text/plain',
      'application/x-www-form-urlencoded',
      'application/problem+json',
      'application/jsonx',
      'application/json; charset=iso-8859-1',
      'application/json; charset="utf-16"',
    ]) {
      const { answer, reached } = await json(withType(contentType, '{}'));

      expect({ contentType, status: answer.status, reached }).toEqual({
        contentType,
        status: 415,
        reached: undefined,
      });
      expectProblem(answer, 415, 'unsupported-media-type');
      expect(answer.json.detail).toBe(
        'Send the body as JSON in UTF-8, with Content-Type: application/json.',
      );
    }
  });

  it('decodes a base64-encoded body', async () => {
    const sent = event({
      headers: { 'content-type': 'application/json' },
      rawBody: Buffer.from('{"description":"naïve"}').toString('base64'),
      isBase64Encoded: true,
    });

    expect((await json(sent)).reached?.event.body).toEqual({ description: 'naïve' });
  });

  it('answers a body that is not JSON with 422 malformed-json', async () => {
    for (const body of ['{"sampling_rate": ', 'not json', '']) {
      const { answer, reached } = await json(withType('application/json', body));

      expectProblem(answer, 422, 'malformed-json');
      expect(reached).toBeUndefined();
    }
    const none = await json(withType('application/json', undefined));
    expectProblem(none.answer, 422, 'malformed-json');
  });

  it('refuses a key that could change a prototype with 400, naming it', async () => {
    const { answer, reached } = await json(
      withType('application/json', '{"description":"x","__proto__":{"admin":true}}'),
    );

    expectProblem(answer, 400, 'validation-failed');
    expect(answer.json.errors).toEqual([{ field: 'body.__proto__', message: 'is not allowed' }]);
    expect(reached).toBeUndefined();
  });

  it('with `optional`, reads no body at all as {} whatever its type, but still checks a body', async () => {
    const nullBody = withType(undefined, undefined);
    Object.assign(nullBody, { body: null });
    for (const sent of [withType(undefined, undefined), withType(undefined, ''), nullBody]) {
      const { reached } = await json(sent, true);

      expect(reached?.event.body).toEqual({});
    }
    expect((await json(withType(undefined, '{}'), true)).answer.status).toBe(415);
    expect((await json(withType('application/json', '{"a":1}'), true)).reached?.event.body).toEqual(
      { a: 1 },
    );
  });

  it('isJsonUtf8 tells a UTF-8 JSON Content-Type from any other', () => {
    expect(isJsonUtf8('application/json')).toBe(true);
    expect(isJsonUtf8('application/json;charset="utf-8"')).toBe(true);
    expect(isJsonUtf8('application/json; a=b; charset=utf8')).toBe(true);
    expect(isJsonUtf8(undefined)).toBe(false);
    expect(isJsonUtf8('')).toBe(false);
    expect(isJsonUtf8('application/json; charset=utf-8; charset=latin1')).toBe(false);
    expect(isJsonUtf8('application/vnd.api+json')).toBe(false);
  });
});

describe('formBody (form-body.ts)', () => {
  const form = (sent: APIGatewayProxyEventV2) => through([problemDetails(), formBody()], sent);
  const SLACK = 'command=%2Fstreams&text=list+all&team_id=T1&text2=caf%C3%A9';

  it('parses a form body, with or without a charset, base64-encoded or not', async () => {
    for (const sent of [
      event({ headers: { 'content-type': 'application/x-www-form-urlencoded' }, rawBody: SLACK }),
      event({
        headers: { 'content-type': 'Application/X-WWW-Form-Urlencoded; charset=utf-8' },
        rawBody: Buffer.from(SLACK).toString('base64'),
        isBase64Encoded: true,
      }),
    ]) {
      const { reached } = await form(sent);

      expect({ ...(reached?.event.body as unknown as object) }).toEqual({
        command: '/streams',
        text: 'list all',
        team_id: 'T1',
        text2: 'café',
      });
    }
  });

  it('refuses any other type with 415, before the next middleware', async () => {
    for (const headers of [
      {} as Record<string, string>,
      { 'content-type': 'application/json' },
      { 'content-type': 'multipart/form-data; boundary=x' },
    ]) {
      const { answer, reached } = await form(event({ headers, rawBody: SLACK }));

      expectProblem(answer, 415, 'unsupported-media-type');
      expect(answer.json.detail).toBe(
        'Send the body as a form, with Content-Type: application/x-www-form-urlencoded.',
      );
      expect(reached).toBeUndefined();
    }
  });
});

describe('signedBody (signed-body.ts)', () => {
  const secret: ServiceSecret = { ngrok_api_key: 'not-used-here', callers: [] };

  /** Signs when `x-fake-signature` is the body's length; notes what it was asked. */
  function fakeScheme() {
    const asked: Parameters<SignatureScheme['verify']>[0][] = [];
    const scheme: SignatureScheme = {
      signer: 'Fake',
      description: 'A test scheme.',
      verify: (request) => {
        asked.push(request);
        return request.headers['x-fake-signature'] === String(request.rawBody.length)
          ? { ok: true }
          : { ok: false, reason: 'the length does not match' };
      },
    };
    return { scheme, asked };
  }

  const signed = (scheme: SignatureScheme, sent: APIGatewayProxyEventV2) =>
    through([problemDetails(), signedBody(scheme)], sent, {
      context: apiContext({ serviceSecret: secret }),
    });

  it('has the scheme check the raw bytes as sent (base64-decoded), the headers, the secret and the time', async () => {
    const { scheme, asked } = fakeScheme();
    const bytes = Buffer.from([0xff, 0x00, 0x41, 0xfe]);
    const before = Date.now();

    const { answer, reached } = await signed(
      scheme,
      event({
        headers: { 'x-fake-signature': '4' },
        rawBody: bytes.toString('base64'),
        isBase64Encoded: true,
      }),
    );

    expect(answer.status).toBe(200);
    expect(reached).toBeDefined();
    expect(asked).toHaveLength(1);
    expect(asked[0]?.rawBody.equals(bytes)).toBe(true);
    expect(asked[0]?.headers['x-fake-signature']).toBe('4');
    expect(asked[0]?.secret).toBe(secret);
    expect(asked[0]?.now).toBeGreaterThanOrEqual(before);
    expect(asked[0]?.now).toBeLessThanOrEqual(Date.now());
  });

  it('hands a text body over as its UTF-8 bytes', async () => {
    const { scheme, asked } = fakeScheme();

    await signed(scheme, event({ headers: { 'x-fake-signature': '5' }, rawBody: 'a=é&' }));

    expect(asked[0]?.rawBody.equals(Buffer.from('a=é&', 'utf8'))).toBe(true);
  });

  it('refuses with 401 naming only the signer; the reason goes to the request’s note', async () => {
    const { scheme } = fakeScheme();

    const { answer, reached, context } = await signed(
      scheme,
      event({ headers: { 'x-fake-signature': '99' }, rawBody: 'abc' }),
    );

    expectProblem(answer, 401, 'unauthorized');
    expect(answer.json.detail).toBe('The request is not signed by Fake.');
    expect(answer.body).not.toContain('length');
    expect(context.record.note).toBe('the length does not match');
    expect(reached).toBeUndefined();
  });

  it('rawBody is empty for a request without a body', () => {
    const sent = event();
    expect(rawBody(sent).length).toBe(0);
    Object.assign(sent, { body: null, isBase64Encoded: true });
    expect(rawBody(sent).length).toBe(0);
  });
});

describe('validateInput (validate-input.ts)', () => {
  const schemas = {
    path: z.object({ id: z.string().check(z.regex(/^es_\w+$/, 'must be an Event Stream id')) }),
    query: z.object({
      limit: z.optional(
        z.pipe(z.string().check(z.regex(/^\d+$/, 'must be a number')), z.transform(Number)),
      ),
    }),
    body: z.strictObject({
      sampling_rate: z.number().check(z.maximum(1, 'must be at most 1')),
    }),
  };

  const validated = (sent: APIGatewayProxyEventV2, only = schemas) =>
    through([problemDetails(), validateInput(only)], sent);

  function request(path: Record<string, string>, query: Record<string, string>, body: unknown) {
    const sent = event({ pathParameters: path, query });
    // The body as jsonBody leaves it: parsed.
    (sent as { body: unknown }).body = body;
    return sent;
  }

  it('leaves path, query and body, as their schemas parse them, in context.input', async () => {
    const { answer, reached } = await validated(
      request({ id: 'es_1' }, { limit: '20' }, { sampling_rate: 0.5 }),
    );

    expect(answer.status).toBe(200);
    expect(reached?.context.input).toEqual({
      path: { id: 'es_1' },
      query: { limit: 20 },
      body: { sampling_rate: 0.5 },
    });
  });

  it('reads missing path parameters and query as empty, and skips parts without a schema', async () => {
    const sent = event();
    Object.assign(sent, { pathParameters: undefined, queryStringParameters: undefined });

    const { reached } = await validated(sent, { query: schemas.query } as typeof schemas);

    expect(reached?.context.input).toEqual({ query: {} });
  });

  it('refuses with 400 naming every bad field, of every part, before the next middleware', async () => {
    const { answer, reached } = await validated(
      request({ id: 'nope' }, { limit: 'ten' }, { sampling_rate: 2, extra: 1, more: 2 }),
    );

    expectProblem(answer, 400, 'validation-failed');
    expect(answer.json.errors).toEqual([
      { field: 'path.id', message: 'must be an Event Stream id' },
      { field: 'query.limit', message: 'must be a number' },
      { field: 'body.sampling_rate', message: 'must be at most 1' },
      { field: 'body.extra', message: 'is not a known field' },
      { field: 'body.more', message: 'is not a known field' },
    ]);
    expect(answer.json.detail).toBe(
      'path.id must be an Event Stream id; query.limit must be a number; body.sampling_rate must be at most 1; body.extra is not a known field; body.more is not a known field',
    );
    expect(reached).toBeUndefined();
  });

  it('says a body that is not an object must be a JSON object', async () => {
    for (const body of [[], 'text', 7, null, undefined]) {
      const { answer } = await validated(request({ id: 'es_1' }, {}, body));

      expect(answer.json.errors).toEqual([{ field: 'body', message: 'must be a JSON object' }]);
    }
  });
});

describe('problemDetails and recordProblem (problem-details.ts)', () => {
  const failing = (error: unknown, more: ApiMiddleware[] = []) =>
    through([problemDetails(), ...more], event(), {
      handle: async () => {
        throw error;
      },
    });

  it('answers a problem thrown anywhere after it as problem+json, the request id as instance', async () => {
    const { answer, context } = await failing(
      problem('not-found', 'No Event Stream has this id.', {}, { note: 'for the operator' }),
    );

    expectProblem(answer, 404, 'not-found');
    expect(answer.json).toEqual({
      type: `${PROBLEM_TYPE_PREFIX}not-found`,
      title: 'Not found',
      status: 404,
      detail: 'No Event Stream has this id.',
      instance: REQUEST_ID,
    });
    expect(context.record.problem).toMatchObject({ kind: 'not-found', status: 404 });
    expect(context.record.note).toBe('for the operator');
    expect(context.record).not.toHaveProperty('error');
  });

  it('answers an ngrok failure as the problem catalogue says, its headers included', async () => {
    const { answer } = await failing(
      new NgrokApiError('event_streams.get', {
        status: 429,
        ngrokMessage: 'slow down',
        retryAfterSeconds: 9,
      }),
    );

    expectProblem(answer, 429, 'rate-limited');
    expect(answer.headers['retry-after']).toBe('9');
  });

  it('answers an unexpected error with 500 and nothing of it, keeping it for the request line', async () => {
    const error = new Error('ECONNREFUSED 10.1.2.3:5432 password=hunter2hunter2');

    const { answer, context } = await failing(error);

    expectProblem(answer, 500, 'internal-error');
    expect(answer.body).not.toMatch(/ECONNREFUSED|10\.1\.2\.3|hunter2/);
    expect(context.record.error).toBe(error);
    expect(context.record.problem?.kind).toBe('internal-error');
  });

  it('leaves alone an answer a middleware after it already made of the error', async () => {
    const slackAnswer: ApiMiddleware = {
      onError: (request) => {
        request.response = { statusCode: 200, body: 'said in Slack' };
      },
    };

    const { answer, context } = await failing(new Error('boom'), [slackAnswer]);

    expect(answer).toMatchObject({ status: 200, body: 'said in Slack' });
    expect(context.record.problem).toBeUndefined();
  });

  it('recordProblem notes the problem, its note, and only a 5xx’s error', () => {
    const request = (error: unknown) => ({ error, context: apiContext() }) as unknown as ApiRequest;
    const refused = request(problem('forbidden', 'no', {}, { note: 'scope' }));
    const failed = request(new Error('bug'));

    expect(recordProblem(refused)).toMatchObject({ kind: 'forbidden', status: 403 });
    expect(refused.context.record).toMatchObject({ problem: { kind: 'forbidden' }, note: 'scope' });
    expect(refused.context.record.error).toBeUndefined();
    expect(recordProblem(failed).status).toBe(500);
    expect(failed.context.record.error).toBe(failed.error);
    expect(failed.context.record.note).toBeUndefined();
  });
});
