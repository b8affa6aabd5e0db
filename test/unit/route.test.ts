/**
 * lib/http/route.ts: a route as `httpRoute` builds it from its declaration, with each kind of
 * auth ('none', a bearer token with a scope, a sender's signature with a tiny fake scheme), in the
 * order the declaration promises: the token before the body's size and before the secret is
 * read; a signature after the body's size. Routes that need the service's secret read it from the
 * sandbox's Secrets Manager (test/helpers/sandbox.ts); no route here calls ngrok.
 */
import * as z from 'zod/mini';
import {
  httpRoute,
  json,
  MAX_BODY_BYTES,
  noContent,
  type RouteSpec,
} from '../../lib/http/route.ts';
import type { SignatureScheme } from '../../lib/middleware/signed-body.ts';
import { clearServiceSecretCache } from '../../lib/secrets/service-secret.ts';
import {
  type ApiEventOptions,
  apiEvent,
  configureService,
  invoke,
  type ServiceTokens,
} from '../helpers/lambda.ts';
import { serviceLogs } from '../helpers/logs.ts';
import { requestLog, useSandbox } from '../helpers/sandbox.ts';

const ctx = useSandbox();
let tokens: ServiceTokens;
const savedEnv = { ...process.env };

beforeEach(async () => {
  clearServiceSecretCache();
  tokens = await configureService(ctx.url, ctx.apiKey, ctx.sandbox.awsCredentials);
  calls.length = 0;
  asked.length = 0;
});
afterAll(() => {
  process.env = savedEnv;
});

const PROBLEM = 'tag:ngrok-event-streams-automation,2026:problem:';

const Params = z.object({
  id: z.string().check(z.regex(/^es_\w+$/, 'must be an Event Stream id')),
});
const Body = z.strictObject({ sampling_rate: z.number().check(z.maximum(1, 'must be at most 1')) });

/** What each operation was called with. */
const calls: { operation: string; input: unknown; caller: string | undefined }[] = [];

/** The fake sender signs with the body's length in `x-fake-signature`. */
const asked: Parameters<SignatureScheme['verify']>[0][] = [];
const fakeScheme: SignatureScheme = {
  signer: 'Fake',
  description: 'The body’s length in x-fake-signature.',
  verify: (request) => {
    asked.push(request);
    return request.headers['x-fake-signature'] === String(request.rawBody.length)
      ? { ok: true }
      : { ok: false, reason: 'the length does not match' };
  },
};

function route<B extends z.ZodMiniType | undefined>(
  spec: Omit<RouteSpec<typeof Params, undefined, B>, 'summary' | 'answer' | 'path'>,
) {
  return httpRoute(
    {
      ...spec,
      path: '/things/{id}',
      summary: spec.operation,
      answer: { status: 200, description: 'What it was given.' },
    },
    async (input, _event, context) => {
      calls.push({ operation: spec.operation, input, caller: context.callerName });
      return json(200, { id: input.path.id });
    },
  );
}

const getOpen = route({ method: 'GET', operation: 'getOpen', auth: 'none', params: Params });
const patchOpen = route({
  method: 'PATCH',
  operation: 'patchOpen',
  auth: 'none',
  params: Params,
  body: Body,
  bodyOptional: true,
});
const patchBearer = route({
  method: 'PATCH',
  operation: 'patchBearer',
  auth: { bearer: 'write' },
  params: Params,
  body: Body,
});
const patchSigned = route({
  method: 'PATCH',
  operation: 'patchSigned',
  auth: { signature: fakeScheme },
  params: Params,
  body: Body,
});

function request(options: Partial<ApiEventOptions> = {}) {
  return apiEvent({
    method: 'PATCH',
    route: '/things/{id}',
    pathParameters: { id: 'es_1' },
    ...options,
  });
}

const tooLarge = JSON.stringify({ sampling_rate: 1, pad: 'x'.repeat(MAX_BODY_BYTES) });

async function secretReads(): Promise<number> {
  return (await requestLog(ctx.url)).filter((entry) => entry.api === 'secretsmanager').length;
}

/** Invokes and returns the answer and the request line. */
async function send(handler: unknown, event: ReturnType<typeof apiEvent>) {
  const mark = serviceLogs.mark();
  const answer = await invoke(handler, event);
  const line = serviceLogs.since(mark).find((entry) => entry.message === 'request');
  return { answer, line };
}

describe('httpRoute: the declaration', () => {
  it('is carried by the handler, as declared', () => {
    expect(patchBearer.route).toMatchObject({
      method: 'PATCH',
      path: '/things/{id}',
      operation: 'patchBearer',
      auth: { bearer: 'write' },
      body: Body,
    });
    expect(patchSigned.route.auth).toEqual({ signature: fakeScheme });
    expect(getOpen.route.auth).toBe('none');
  });

  it('json() and noContent() are the answers an operation gives', () => {
    expect(json(201, { id: 'es_1' })).toEqual({
      statusCode: 201,
      headers: { 'Content-Type': 'application/json' },
      body: '{"id":"es_1"}',
    });
    expect(noContent()).toEqual({ statusCode: 204 });
  });
});

describe("httpRoute: auth 'none'", () => {
  it('runs the operation with the validated input, and answers with the request id', async () => {
    const { answer, line } = await send(getOpen, request({ method: 'GET' }));

    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({ id: 'es_1' });
    expect(answer.headers['x-request-id']).toBe('request-id');
    expect(calls).toEqual([
      { operation: 'getOpen', input: { path: { id: 'es_1' } }, caller: undefined },
    ]);
    expect(line).toMatchObject({
      status: 200,
      route: 'GET /things/{id}',
      correlation_id: 'request-id',
    });
    expect(await secretReads()).toBe(0);
  });

  it('refuses bad input with 400 before the operation', async () => {
    const { answer } = await send(
      getOpen,
      request({ method: 'GET', pathParameters: { id: 'nope' } }),
    );

    expect(answer.status).toBe(400);
    expect(answer.json).toMatchObject({
      type: `${PROBLEM}validation-failed`,
      errors: [{ field: 'path.id', message: 'must be an Event Stream id' }],
    });
    expect(calls).toEqual([]);
  });

  it('refuses an event that is not API Gateway’s with 400, as problem+json', async () => {
    const { answer } = await send(getOpen, { version: '1.0', httpMethod: 'GET' } as never);

    expect(answer.status).toBe(400);
    expect(answer.headers['content-type']).toBe('application/problem+json');
    expect(answer.json.type).toBe(`${PROBLEM}malformed-event`);
    expect(answer.headers['x-request-id']).toBe('aws-request-id');
    expect(calls).toEqual([]);
  });

  it('with a body: normalises the headers, parses JSON, limits the size, and reads no body as {}', async () => {
    const parsed = await send(patchOpen, request({ body: { sampling_rate: 0.5 } }));
    const missing = await send(patchOpen, request());
    const oversized = await send(
      patchOpen,
      request({ rawBody: tooLarge, headers: { 'Content-Type': 'application/json' } }),
    );
    const textual = await send(
      patchOpen,
      request({ rawBody: '{}', headers: { 'CONTENT-TYPE': 'text/plain' } }),
    );

    expect(parsed.answer.status).toBe(200);
    // No body and no Content-Type: read as {} (not a 415), so the schema names the missing field.
    expect(missing.answer.status).toBe(400);
    expect(missing.answer.json.errors).toEqual([
      { field: 'body.sampling_rate', message: expect.any(String) },
    ]);
    expect(oversized.answer.status).toBe(413);
    expect(textual.answer.status).toBe(415);
    expect(calls).toEqual([
      {
        operation: 'patchOpen',
        input: { path: { id: 'es_1' }, body: { sampling_rate: 0.5 } },
        caller: undefined,
      },
    ]);
  });
});

describe('httpRoute: auth { bearer }', () => {
  it('refuses a request without a token with 401 before anything else: no secret read, not even a 413', async () => {
    const plain = await send(patchBearer, request({ body: { sampling_rate: 1 } }));
    const oversized = await send(
      patchBearer,
      request({ rawBody: tooLarge, headers: { 'content-type': 'application/json' } }),
    );

    for (const { answer, line } of [plain, oversized]) {
      expect(answer.status).toBe(401);
      expect(answer.json.type).toBe(`${PROBLEM}unauthorized`);
      expect(answer.headers['www-authenticate']).toBe('Bearer realm="ngrok-event-streams"');
      expect(line).toMatchObject({ status: 401, kind: 'unauthorized' });
    }
    expect(await secretReads()).toBe(0);
    expect(calls).toEqual([]);
  });

  it('reads the secret to refuse an unknown token (401) or one without the scope (403)', async () => {
    const unknown = await send(
      patchBearer,
      request({ body: { sampling_rate: 1 }, token: 'nes_not-a-caller-token' }),
    );
    const readOnly = await send(
      patchBearer,
      request({ body: { sampling_rate: 1 }, token: tokens.read }),
    );

    expect(unknown.answer.status).toBe(401);
    expect(readOnly.answer.status).toBe(403);
    expect(readOnly.line).toMatchObject({ kind: 'forbidden' });
    expect(await secretReads()).toBe(1);
    expect(calls).toEqual([]);
  });

  it('lets a caller with the scope in, named, and then limits and checks the body', async () => {
    const allowed = await send(
      patchBearer,
      request({ body: { sampling_rate: 0.25 }, token: tokens.write }),
    );
    const oversized = await send(
      patchBearer,
      request({
        rawBody: tooLarge,
        headers: { 'content-type': 'application/json' },
        token: tokens.write,
      }),
    );
    const invalid = await send(
      patchBearer,
      request({ body: { sampling_rate: 3 }, token: tokens.write }),
    );

    expect(allowed.answer.status).toBe(200);
    expect(allowed.line).toMatchObject({ caller: 'ci', status: 200 });
    expect(oversized.answer.status).toBe(413);
    expect(oversized.line).toMatchObject({ caller: 'ci', kind: 'payload-too-large' });
    expect(invalid.answer.status).toBe(400);
    expect(calls).toEqual([
      {
        operation: 'patchBearer',
        input: { path: { id: 'es_1' }, body: { sampling_rate: 0.25 } },
        caller: 'ci',
      },
    ]);
  });
});

describe('httpRoute: auth { signature }', () => {
  function signedRequest(body: string, signature = String(Buffer.byteLength(body))) {
    return request({
      rawBody: body,
      headers: { 'content-type': 'application/json', 'X-Fake-Signature': signature },
    });
  }

  it('limits the body’s size first: 413 with no secret read and no signature checked', async () => {
    const { answer } = await send(patchSigned, signedRequest(tooLarge));

    expect(answer.status).toBe(413);
    expect(asked).toEqual([]);
    expect(await secretReads()).toBe(0);
    expect(calls).toEqual([]);
  });

  it('then has the scheme check the raw body with the service’s secret: 401 naming the signer, the reason noted', async () => {
    const { answer, line } = await send(patchSigned, signedRequest('{"sampling_rate":1}', '3'));

    expect(answer.status).toBe(401);
    expect(answer.json).toMatchObject({
      type: `${PROBLEM}unauthorized`,
      detail: 'The request is not signed by Fake.',
    });
    expect(answer.body).not.toContain('length');
    expect(line).toMatchObject({ status: 401, note: 'the length does not match' });
    expect(asked).toHaveLength(1);
    expect(asked[0]?.secret.callers.map((caller) => caller.name)).toEqual([
      'ci',
      'dashboard',
      'alertmanager',
    ]);
    expect(asked[0]?.rawBody.toString()).toBe('{"sampling_rate":1}');
    expect(calls).toEqual([]);
  });

  it('runs the operation on a signed request, its body parsed and validated after the signature', async () => {
    const signed = await send(patchSigned, signedRequest('{"sampling_rate":0.5}'));
    const signedButInvalid = await send(patchSigned, signedRequest('{"sampling_rate":5}'));
    const signedNotJson = await send(patchSigned, signedRequest('{"sampling_rate":'));

    expect(signed.answer.status).toBe(200);
    expect(signedButInvalid.answer.status).toBe(400);
    expect(signedNotJson.answer.status).toBe(422);
    expect(asked).toHaveLength(3);
    expect(calls).toEqual([
      {
        operation: 'patchSigned',
        input: { path: { id: 'es_1' }, body: { sampling_rate: 0.5 } },
        caller: undefined,
      },
    ]);
  });
});
