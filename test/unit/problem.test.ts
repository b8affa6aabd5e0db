/**
 * lib/http/problem.ts: the catalogue of problems, how any error becomes the problem a caller
 * sees (ngrok's failures, middy's JSON parser, anything unexpected), the answer it is written as,
 * and how much of ngrok's own message may be passed on.
 */
import httpJsonBodyParser from '@middy/http-json-body-parser';
import {
  forbidden,
  HttpProblem,
  idempotencyKeyInFlight,
  idempotencyUnavailable,
  PROBLEM_CONTENT_TYPE,
  PROBLEM_KINDS,
  PROBLEM_TYPE_PREFIX,
  type ProblemKind,
  payloadTooLarge,
  problem,
  problemFields,
  problemOf,
  problemResponse,
  safeNgrokMessage,
  unauthorized,
  unsupportedMediaType,
  validationFailed,
} from '../../lib/http/problem.ts';
import {
  NgrokApiError,
  NgrokError,
  NgrokInvalidIdError,
  NgrokInvalidResponseError,
  NgrokNetworkError,
  NgrokTimeoutError,
} from '../../lib/ngrok/errors.ts';
import { registerSecretValue } from '../../lib/observability/redact.ts';
import { Problem } from '../../lib/schemas/problem.ts';

const KINDS = Object.keys(PROBLEM_KINDS) as ProblemKind[];

/** What `@middy/http-json-body-parser` throws for this body (the real parser, as the routes use it). */
function middyParseError(body: string | undefined): unknown {
  const parser = httpJsonBodyParser({ disableContentTypeCheck: true });
  try {
    parser.before?.({ event: { body, headers: {} } } as never);
  } catch (error) {
    return error;
  }
  throw new Error(`middy parsed ${body}`);
}

function apiError(status: number, more: Partial<ConstructorParameters<typeof NgrokApiError>[1]>) {
  return new NgrokApiError('event_streams.get', { status, ngrokMessage: 'refused', ...more });
}

function answerOf(fields: Parameters<typeof problemResponse>[0], instance?: string) {
  const response = problemResponse(fields, instance);
  return { ...response, json: JSON.parse(response.body ?? '') as Record<string, unknown> };
}

describe('PROBLEM_KINDS: the catalogue', () => {
  it('gives every kind an error status (4xx or 5xx) and a title', () => {
    expect(KINDS.length).toBeGreaterThan(0);
    for (const kind of KINDS) {
      const { status, title } = PROBLEM_KINDS[kind];
      expect({ kind, error: status >= 400 && status <= 599 }).toEqual({ kind, error: true });
      expect(title.trim()).not.toBe('');
    }
  });

  it('is where problemFields and problem() take the status and title from', () => {
    for (const kind of KINDS) {
      const fields = problemFields(kind, 'what happened');
      const thrown = problem(kind, 'what happened', {}, { note: 'for the operator' });

      expect(fields).toEqual({ kind, ...PROBLEM_KINDS[kind], detail: 'what happened' });
      expect(thrown).toBeInstanceOf(HttpProblem);
      expect(thrown.problem).toEqual(fields);
      expect(thrown.status).toBe(PROBLEM_KINDS[kind].status);
      expect(thrown.message).toBe('what happened');
      expect(thrown.note).toBe('for the operator');
    }
  });

  it('makes every kind an answer of the published problem shape', () => {
    for (const kind of KINDS) {
      const { json, statusCode } = answerOf(problemFields(kind, 'detail'), 'req-1');

      expect(Problem.safeParse(json).success).toBe(true);
      expect(statusCode).toBe(PROBLEM_KINDS[kind].status);
    }
  });

  it('has the ready-made problems with the headers a client acts on', () => {
    expect(unauthorized('Send a token.').problem).toMatchObject({
      kind: 'unauthorized',
      status: 401,
      headers: { 'WWW-Authenticate': 'Bearer realm="ngrok-event-streams"' },
    });
    expect(unauthorized('No.', 'why').note).toBe('why');
    expect(forbidden('write').problem).toMatchObject({
      status: 403,
      detail: expect.stringContaining("'write'"),
      headers: { 'WWW-Authenticate': expect.stringContaining('scope="write"') },
    });
    expect(
      validationFailed([
        { field: 'path.id', message: 'is not an id' },
        { field: 'query.limit', message: 'must be a number' },
      ]).problem,
    ).toMatchObject({
      status: 400,
      detail: 'path.id is not an id; query.limit must be a number',
      errors: [{ field: 'path.id' }, { field: 'query.limit' }],
    });
    expect(payloadTooLarge(16384).problem).toMatchObject({
      status: 413,
      detail: 'The body may be at most 16384 bytes.',
    });
    expect(unsupportedMediaType('JSON').problem).toMatchObject({
      status: 415,
      detail: 'Send the body as JSON.',
    });
    expect(idempotencyKeyInFlight(7).problem).toMatchObject({
      status: 409,
      headers: { 'Retry-After': '7' },
      detail: expect.stringContaining('7 seconds'),
    });
    const cause = new Error('table gone');
    const unavailable = idempotencyUnavailable({ cause });
    expect(unavailable.problem).toMatchObject({ status: 503, headers: { 'Retry-After': '1' } });
    expect(unavailable.cause).toBe(cause);
  });
});

describe('problemOf: an ngrok failure as the caller sees it', () => {
  it('passes a 400 on as upstream-validation-failed, with ngrok’s safe message, code and operation id', () => {
    const fields = problemOf(
      apiError(400, {
        ngrokMessage: 'The sampling rate must be between 0 and 1. See https://ngrok.com/docs/x.',
        errorCode: 'ERR_NGROK_7701',
        operationId: 'op_2abc',
      }),
    );

    expect(fields).toMatchObject({
      kind: 'upstream-validation-failed',
      status: 400,
      detail: 'The sampling rate must be between 0 and 1. See the ngrok API',
      error_code: 'ERR_NGROK_7701',
      operation_id: 'op_2abc',
    });
  });

  it('answers 404 as not-found', () => {
    expect(problemOf(apiError(404, { errorCode: 'ERR_NGROK_404' }))).toMatchObject({
      kind: 'not-found',
      status: 404,
      detail: 'No Event Stream has this id.',
      error_code: 'ERR_NGROK_404',
    });
  });

  it('answers 429 with ngrok’s Retry-After, and 60 seconds when ngrok sent none', () => {
    const told = problemOf(apiError(429, { retryAfterSeconds: 12 }));
    const untold = problemOf(apiError(429, {}));

    expect(told).toMatchObject({
      kind: 'rate-limited',
      status: 429,
      headers: { 'Retry-After': '12' },
      detail: expect.stringContaining('12 seconds'),
    });
    expect(untold).toMatchObject({ status: 429, headers: { 'Retry-After': '60' } });
    expect(problemOf(apiError(429, { retryAfterSeconds: 0 })).headers).toEqual({
      'Retry-After': '0',
    });
  });

  it('answers a refused key (401, 403) as 502 upstream-rejected-key: the operator’s trouble, not the caller’s', () => {
    for (const status of [401, 403]) {
      expect(problemOf(apiError(status, { errorCode: 'ERR_NGROK_401' }))).toMatchObject({
        kind: 'upstream-rejected-key',
        status: 502,
        error_code: 'ERR_NGROK_401',
      });
    }
  });

  it('answers 5xx and any other ngrok status as 502 upstream-error, naming the status', () => {
    for (const status of [500, 502, 503, 409, 422]) {
      expect(problemOf(apiError(status, {}))).toMatchObject({
        kind: 'upstream-error',
        status: 502,
        detail: `The ngrok API answered HTTP ${status}. Try again.`,
      });
    }
  });

  it('answers no answer in time as 504, an invalid id as 400, and a network or unreadable answer as 502', () => {
    expect(problemOf(new NgrokTimeoutError('event_streams.get'))).toMatchObject({
      kind: 'upstream-timeout',
      status: 504,
    });
    expect(problemOf(new NgrokInvalidIdError('event_streams.get', 'Event Stream'))).toMatchObject({
      kind: 'validation-failed',
      status: 400,
      detail: 'The id is not a valid ngrok id.',
    });
    for (const error of [
      new NgrokNetworkError('event_streams.create', 'ECONNRESET', true),
      new NgrokInvalidResponseError('event_streams.get', 200, 'a page'),
      new NgrokError('event_streams.get', 'something else'),
    ]) {
      expect(problemOf(error)).toMatchObject({ kind: 'upstream-error', status: 502 });
    }
  });

  it('never shows the ngrok error’s own message (it names the operation and what ngrok said raw)', () => {
    const error = apiError(503, { ngrokMessage: 'internal: db-7.ngrok.internal down' });

    expect(JSON.stringify(problemOf(error))).not.toContain('db-7');
  });
});

describe('problemOf: middy’s JSON parser errors', () => {
  it('answers a body that is not JSON as 422 malformed-json, with the parser’s reason', () => {
    const fields = problemOf(middyParseError('{"sampling_rate": 0.5'));

    expect(fields).toMatchObject({ kind: 'malformed-json', status: 422 });
    expect(fields.detail).toMatch(/^The body is not valid JSON: ./);
  });

  it('answers a 422 without a reason (no body at all) as malformed-json', () => {
    expect(problemOf(middyParseError(undefined))).toMatchObject({
      kind: 'malformed-json',
      status: 422,
      detail: 'The body is not valid JSON.',
    });
  });

  it('answers a key that could change a prototype as 400, naming it', () => {
    expect(problemOf(middyParseError('{"a": 1, "__proto__": {"admin": true}}'))).toEqual(
      problemFields('validation-failed', 'body.__proto__ is not allowed', {
        errors: [{ field: 'body.__proto__', message: 'is not allowed' }],
      }),
    );
    expect(problemOf(middyParseError('{"constructor": {"prototype": {}}}'))).toMatchObject({
      status: 400,
      errors: [{ field: 'body.constructor', message: 'is not allowed' }],
    });
  });
});

describe('problemOf: anything else', () => {
  it('is 500 internal-error, and says nothing of the error itself', () => {
    const secretish = new Error('connect ECONNREFUSED 10.0.0.7:443 with key sk_live_abc');
    const withStatus = Object.assign(new Error('not found in the table'), { statusCode: 404 });

    for (const error of [secretish, withStatus, 'a string', null, undefined, { statusCode: 'x' }]) {
      const fields = problemOf(error);
      expect(fields).toEqual(
        problemFields('internal-error', 'The service failed. Its logs say why.'),
      );
    }
    expect(JSON.stringify(problemResponse(problemOf(secretish)))).not.toMatch(/10\.0\.0\.7|sk_/);
  });

  it('is the problem itself for an HttpProblem', () => {
    const thrown = payloadTooLarge(10);

    expect(problemOf(thrown)).toBe(thrown.problem);
  });
});

describe('problemResponse: the answer', () => {
  it('is problem+json with the type built from the kind, the status, and the request id as instance', () => {
    const answer = answerOf(payloadTooLarge(10).problem, 'req-42');

    expect(answer.statusCode).toBe(413);
    expect(answer.headers).toEqual({ 'Content-Type': PROBLEM_CONTENT_TYPE });
    expect(answer.json).toEqual({
      type: `${PROBLEM_TYPE_PREFIX}payload-too-large`,
      title: 'Payload too large',
      status: 413,
      detail: 'The body may be at most 10 bytes.',
      instance: 'req-42',
    });
  });

  it('has no instance without a request id, and no member whose value is undefined', () => {
    const answer = answerOf(problemOf(apiError(404, {})));

    expect(answer.json).not.toHaveProperty('instance');
    expect(answer.json).not.toHaveProperty('error_code');
    expect(answer.json).not.toHaveProperty('operation_id');
    expect(Object.keys(answer.json).sort()).toEqual(['detail', 'status', 'title', 'type']);
  });

  it('writes the problem’s members (errors, error_code, operation_id) but not its kind, headers or extensions as such', () => {
    const answer = answerOf(
      problemFields('upstream-validation-failed', 'no', {
        error_code: 'ERR_NGROK_1',
        operation_id: 'op_1',
        errors: [{ field: 'body.x', message: 'bad' }],
        headers: { 'X-Extra': 'yes' },
        extensions: { streams: [{ id: 'es_1' }] },
      }),
    );

    expect(answer.json).toMatchObject({
      error_code: 'ERR_NGROK_1',
      operation_id: 'op_1',
      errors: [{ field: 'body.x', message: 'bad' }],
      streams: [{ id: 'es_1' }],
    });
    for (const hidden of ['kind', 'headers', 'extensions']) {
      expect(answer.json).not.toHaveProperty(hidden);
    }
    expect(answer.headers).toEqual({ 'Content-Type': PROBLEM_CONTENT_TYPE, 'X-Extra': 'yes' });
  });

  it('never lets an extension override a standard member', () => {
    const answer = answerOf(
      problemFields('sampling-apply-incomplete', 'two streams were not set', {
        errors: [{ field: 'body.a', message: 'kept' }],
        extensions: {
          type: 'about:blank',
          title: 'All fine',
          status: 200,
          detail: 'nothing happened',
          instance: 'forged',
          errors: [],
          streams: [],
        },
      }),
      'req-7',
    );

    expect(answer.statusCode).toBe(502);
    expect(answer.json).toEqual({
      type: `${PROBLEM_TYPE_PREFIX}sampling-apply-incomplete`,
      title: PROBLEM_KINDS['sampling-apply-incomplete'].title,
      status: 502,
      detail: 'two streams were not set',
      instance: 'req-7',
      errors: [{ field: 'body.a', message: 'kept' }],
      streams: [],
    });
  });

  it('carries the problem’s headers (Retry-After, WWW-Authenticate) next to its Content-Type', () => {
    expect(problemResponse(problemOf(apiError(429, { retryAfterSeconds: 3 }))).headers).toEqual({
      'Content-Type': PROBLEM_CONTENT_TYPE,
      'Retry-After': '3',
    });
    expect(problemResponse(unauthorized('no').problem).headers).toMatchObject({
      'WWW-Authenticate': 'Bearer realm="ngrok-event-streams"',
    });
  });
});

describe('safeNgrokMessage: how much of ngrok’s message a caller sees', () => {
  it('passes an ordinary message on, with its URLs replaced by "the ngrok API"', () => {
    expect(safeNgrokMessage('Invalid sampling rate.', 'ERR_NGROK_1')).toBe(
      'Invalid sampling rate.',
    );
    expect(
      safeNgrokMessage(
        'Bad destination, see https://api.ngrok.com/event_destinations/ed_1 or wss://tunnel.ngrok.com/x',
        undefined,
      ),
    ).toBe('Bad destination, see the ngrok API or the ngrok API');
    expect(
      safeNgrokMessage('docs: http://ngrok.com/docs/errors/err_ngrok_12345678901234567890123', 'E'),
    ).toBe('docs: the ngrok API');
  });

  it('makes control characters spaces', () => {
    expect(safeNgrokMessage('line one\nline\u0000two\t', undefined)).toBe('line one line two');
  });

  it('replaces by a generic one with the error code a message that holds a key-like string', () => {
    expect(
      safeNgrokMessage('Key 2AbCdEfGhIjKlMnOpQrStUvWxYz0123456789 is bad', 'ERR_NGROK_105'),
    ).toBe('ngrok refused the request (ERR_NGROK_105).');
    expect(safeNgrokMessage('Key 2AbCdEfGhIjKlMnOpQrStUvWxYz0123456789 is bad', undefined)).toBe(
      'ngrok refused the request.',
    );
  });

  it('replaces a message that holds a credential or a registered secret', () => {
    registerSecretValue('registered-secret-9');

    for (const message of [
      'token nes_abcdefghijklmnop was refused',
      'header Authorization: Bearer abc.def-ghij refused',
      'the key registered-secret-9 is revoked',
    ]) {
      expect(safeNgrokMessage(message, 'ERR_NGROK_1')).toBe(
        'ngrok refused the request (ERR_NGROK_1).',
      );
    }
  });

  it('replaces an empty message, or one too long to be a message', () => {
    expect(safeNgrokMessage('', 'ERR_NGROK_2')).toBe('ngrok refused the request (ERR_NGROK_2).');
    expect(safeNgrokMessage(' \n ', undefined)).toBe('ngrok refused the request.');
    expect(safeNgrokMessage('word '.repeat(101), undefined)).toBe('ngrok refused the request.');
  });

  it('replaces a message whose key-like string follows a URL without a space (JSON echoed back)', () => {
    const message =
      'invalid target {"url":"https://hooks.example.com/in","token":"q8Zr3LmN5pW2xV7tK9sB4hJ6dF1gC0aYeU"}';

    expect(safeNgrokMessage(message, 'ERR_NGROK_1')).toBe(
      'ngrok refused the request (ERR_NGROK_1).',
    );
  });
});
