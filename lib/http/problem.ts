/**
 * The one error shape of this API: RFC 9457 `application/problem+json`, and the one place that
 * turns any error into it. No stack traces, no secrets, no upstream URLs.
 */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import {
  NgrokApiError,
  NgrokError,
  NgrokInvalidIdError,
  NgrokTimeoutError,
} from '../ngrok/errors.ts';
import { redact } from '../observability/redact.ts';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
const TYPE_PREFIX = 'tag:ngrok-event-streams-automation,2026:problem:';

export interface FieldError {
  /** Where: `body.sampling_rate`, `path.id`, `query.limit`. */
  field: string;
  message: string;
}

export interface ProblemFields {
  status: number;
  /** A short slug for the kind of problem; `type` is built from it. */
  kind: string;
  title: string;
  detail: string;
  errors?: FieldError[];
  error_code?: string;
  operation_id?: string;
  headers?: Record<string, string>;
  /** More members of the body (RFC 9457 extension members), e.g. the streams of an apply. */
  extensions?: Record<string, unknown>;
}

/** An error that is already an answer to the caller. */
export class HttpProblem extends Error {
  readonly problem: ProblemFields;

  constructor(problem: ProblemFields, options?: ErrorOptions) {
    super(problem.detail, options);
    this.name = 'HttpProblem';
    this.problem = problem;
  }

  get status(): number {
    return this.problem.status;
  }
}

export const unauthorized = (detail: string) =>
  new HttpProblem({
    status: 401,
    kind: 'unauthorized',
    title: 'Unauthorized',
    detail,
    headers: { 'WWW-Authenticate': 'Bearer realm="ngrok-event-streams"' },
  });

export const forbidden = (scope: string) =>
  new HttpProblem({
    status: 403,
    kind: 'forbidden',
    title: 'Forbidden',
    detail: `This token lacks the '${scope}' scope that this route needs.`,
    headers: {
      'WWW-Authenticate': `Bearer realm="ngrok-event-streams", error="insufficient_scope", scope="${scope}"`,
    },
  });

export const validationFailed = (errors: FieldError[]) =>
  new HttpProblem({
    status: 400,
    kind: 'validation-failed',
    title: 'The request is not valid',
    detail: errors.map((error) => `${error.field} ${error.message}`).join('; '),
    errors,
  });

export const payloadTooLarge = (maxBytes: number) =>
  new HttpProblem({
    status: 413,
    kind: 'payload-too-large',
    title: 'Payload too large',
    detail: `The body may be at most ${maxBytes} bytes.`,
  });

/** The same Idempotency-Key came with another body (IETF draft, Stripe: 422). */
export const idempotencyKeyReused = () =>
  new HttpProblem({
    status: 422,
    kind: 'idempotency-key-reused',
    title: 'This Idempotency-Key was used for another request',
    detail:
      'This Idempotency-Key was first sent with a different body. Send a new key for a new request.',
  });

/** The first request with this key may still be acting: try again after `Retry-After`. */
export const idempotencyKeyInFlight = (retryAfterSeconds: number) =>
  new HttpProblem({
    status: 409,
    kind: 'idempotency-key-in-flight',
    title: 'A request with this Idempotency-Key is still in flight',
    detail: `A request with this Idempotency-Key is still being processed, or its outcome is not known yet. Try again in ${retryAfterSeconds} seconds: the retry answers as the first request did.`,
    headers: { 'Retry-After': String(retryAfterSeconds) },
  });

/** The key could not be checked or claimed: nothing was done. */
export const idempotencyUnavailable = (options?: ErrorOptions) =>
  new HttpProblem(
    {
      status: 503,
      kind: 'idempotency-unavailable',
      title: 'The Idempotency-Key could not be checked',
      detail: 'The Idempotency-Key could not be checked, so nothing was done. Try again.',
      headers: { 'Retry-After': '1' },
    },
    options,
  );

/**
 * ngrok's message for a refused request, as far as it is safe to pass on: upstream URLs are
 * removed; a message that holds a credential (the service's key, a token, a long opaque string)
 * is replaced by a generic one with the error code.
 */
export function safeNgrokMessage(message: string, errorCode: string | undefined): string {
  const generic = `ngrok refused the request${errorCode ? ` (${errorCode})` : ''}.`;
  const printable = message.replace(/\p{Cc}+/gu, ' ').trim();
  if (printable === '' || printable.length > 500) return generic;
  if (redact(printable) !== printable) return generic;
  if (/[A-Za-z0-9+/_=-]{32,}/.test(printable.replace(/\bhttps?:\/\/\S+/gi, ''))) return generic;
  return printable.replace(/\b(?:https?|wss?):\/\/[^\s'"<>]+/gi, 'the ngrok API');
}

/** Middy's own HTTP errors (`@middy/http-json-body-parser`): 415 and 422. */
function fromMiddyError(error: {
  statusCode: number;
  cause?: unknown;
  message?: string;
}): ProblemFields | undefined {
  if (error.statusCode === 422 && error.message === 'Forbidden key in JSON body') {
    // Valid JSON, but a key that could change an object's prototype: refused by name.
    const key = (error.cause as { data?: unknown } | undefined)?.data;
    const field = `body.${typeof key === 'string' ? key : '__proto__'}`;
    return {
      status: 400,
      kind: 'validation-failed',
      title: 'The request is not valid',
      detail: `${field} is not allowed`,
      errors: [{ field, message: 'is not allowed' }],
    };
  }
  if (error.statusCode === 415) {
    return {
      status: 415,
      kind: 'unsupported-media-type',
      title: 'Unsupported media type',
      detail: 'Send the body as JSON, with Content-Type: application/json.',
    };
  }
  if (error.statusCode === 422) {
    const reason = (error.cause as { message?: unknown } | undefined)?.message;
    return {
      status: 422,
      kind: 'malformed-json',
      title: 'The body is not valid JSON',
      detail:
        typeof reason === 'string'
          ? `The body is not valid JSON: ${reason}`
          : 'The body is not valid JSON.',
    };
  }
  return undefined;
}

/**
 * How an ngrok failure reaches the caller (docs/http-api.md, status table): its validation errors
 * and 404 as they are, 429 with Retry-After, and everything that is the service's trouble, not
 * the caller's (a refused key, 5xx, a bad answer, no answer) as 502 or 504.
 */
function fromNgrokError(error: NgrokError): ProblemFields {
  if (error instanceof NgrokTimeoutError) {
    return {
      status: 504,
      kind: 'upstream-timeout',
      title: 'The ngrok API did not answer in time',
      detail: 'The ngrok API did not answer before the deadline. Try again.',
    };
  }
  if (error instanceof NgrokInvalidIdError) {
    return {
      status: 400,
      kind: 'validation-failed',
      title: 'The request is not valid',
      detail: 'The id is not a valid ngrok id.',
    };
  }
  if (!(error instanceof NgrokApiError)) {
    return {
      status: 502,
      kind: 'upstream-error',
      title: 'The ngrok API could not be reached',
      detail:
        'The ngrok API could not be reached or gave an answer that cannot be read. Try again.',
    };
  }
  const upstream = { error_code: error.errorCode, operation_id: error.operationId };
  switch (error.status) {
    case 400:
      return {
        status: 400,
        kind: 'upstream-validation-failed',
        title: 'ngrok refused the request',
        detail: safeNgrokMessage(error.ngrokMessage, error.errorCode),
        ...upstream,
      };
    case 404:
      return {
        status: 404,
        kind: 'not-found',
        title: 'Not found',
        detail: 'No Event Stream has this id.',
        ...upstream,
      };
    case 429: {
      const retryAfter = error.retryAfterSeconds ?? 60;
      return {
        status: 429,
        kind: 'rate-limited',
        title: 'Too many requests to the ngrok API',
        detail: `The ngrok API rate limit was reached. Try again in ${retryAfter} seconds.`,
        headers: { 'Retry-After': String(retryAfter) },
        ...upstream,
      };
    }
    case 401:
    case 403:
      return {
        status: 502,
        kind: 'upstream-rejected-key',
        title: "ngrok refused this service's API key",
        detail:
          "ngrok refused this service's API key. The operator must update the key in the service's secret.",
        ...upstream,
      };
    default:
      return {
        status: 502,
        kind: 'upstream-error',
        title: 'The ngrok API failed',
        detail: `The ngrok API answered HTTP ${error.status}. Try again.`,
        ...upstream,
      };
  }
}

const INTERNAL: ProblemFields = {
  status: 500,
  kind: 'internal-error',
  title: 'Internal error',
  detail: 'The service failed. Its logs say why.',
};

/** Any error as the problem the caller sees. */
export function problemOf(error: unknown): ProblemFields {
  if (error instanceof HttpProblem) return error.problem;
  if (error instanceof NgrokError) return fromNgrokError(error);
  const statusCode = (error as { statusCode?: unknown } | null)?.statusCode;
  if (typeof statusCode === 'number') {
    const known = fromMiddyError(
      error as { statusCode: number; cause?: unknown; message?: string },
    );
    if (known) return known;
    if (statusCode < 500) {
      return {
        status: statusCode,
        kind: 'client-error',
        title: 'Request refused',
        detail: String((error as Error).message),
      };
    }
  }
  return INTERNAL;
}

/** The answer for a problem; `instance` is the request id, as in the `x-request-id` header. */
export function problemResponse(
  problem: ProblemFields,
  instance?: string,
): APIGatewayProxyStructuredResultV2 {
  const { headers, kind, status, title, detail, extensions, ...extra } = problem;
  const body: Record<string, unknown> = { type: `${TYPE_PREFIX}${kind}`, title, status, detail };
  if (instance) body.instance = instance;
  for (const [key, value] of Object.entries(extra)) if (value !== undefined) body[key] = value;
  for (const [key, value] of Object.entries(extensions ?? {}))
    if (!(key in body)) body[key] = value;
  return {
    statusCode: status,
    headers: { 'Content-Type': PROBLEM_CONTENT_TYPE, ...headers },
    body: JSON.stringify(body),
  };
}
