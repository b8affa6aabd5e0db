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
import type { Problem } from '../schemas/problem.ts';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
export const PROBLEM_TYPE_PREFIX = 'tag:ngrok-event-streams-automation,2026:problem:';

/**
 * Every kind of problem this API answers, with its status and title: the one catalogue. The
 * OpenAPI document lists them; an answer's `type` is PROBLEM_TYPE_PREFIX and its kind.
 */
export const PROBLEM_KINDS = {
  'validation-failed': { status: 400, title: 'The request is not valid' },
  'malformed-event': { status: 400, title: 'Not an API Gateway event' },
  'upstream-validation-failed': { status: 400, title: 'ngrok refused the request' },
  unauthorized: { status: 401, title: 'Unauthorized' },
  forbidden: { status: 403, title: 'Forbidden' },
  'not-found': { status: 404, title: 'Not found' },
  'idempotency-key-in-flight': {
    status: 409,
    title: 'A request with this Idempotency-Key is still in flight',
  },
  'payload-too-large': { status: 413, title: 'Payload too large' },
  'unsupported-media-type': { status: 415, title: 'Unsupported media type' },
  'malformed-json': { status: 422, title: 'The body is not valid JSON' },
  'idempotency-key-reused': {
    status: 422,
    title: 'This Idempotency-Key was used for another request',
  },
  'rate-limited': { status: 429, title: 'Too many requests to the ngrok API' },
  'internal-error': { status: 500, title: 'Internal error' },
  'upstream-error': { status: 502, title: 'The ngrok API failed' },
  'upstream-rejected-key': { status: 502, title: "ngrok refused this service's API key" },
  'sampling-apply-incomplete': {
    status: 502,
    title: 'The sampling schedule was not applied to every stream',
  },
  'idempotency-unavailable': { status: 503, title: 'The Idempotency-Key could not be checked' },
  'overrides-unavailable': { status: 503, title: 'The sampling overrides could not be read' },
  'upstream-timeout': { status: 504, title: 'The ngrok API did not answer in time' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemKind = keyof typeof PROBLEM_KINDS;

export interface FieldError {
  /** Where: `body.sampling_rate`, `path.id`, `query.limit`, `header.idempotency-key`. */
  field: string;
  message: string;
}

/** A problem as this service makes it: the wire's fields but `type` and `instance`, and more. */
export type ProblemFields = Omit<Problem, 'type' | 'instance' | 'status' | 'title'> & {
  status: number;
  title: string;
  /** The kind of problem; `type` is built from it. */
  kind: ProblemKind;
  headers?: Record<string, string>;
  /** More members of the body (RFC 9457 extension members), e.g. the streams of an apply. */
  extensions?: Record<string, unknown>;
};

/** The fields of a problem of `kind`: its status and title from the catalogue. */
export function problemFields(
  kind: ProblemKind,
  detail: string,
  more: Omit<ProblemFields, 'kind' | 'status' | 'title' | 'detail'> = {},
): ProblemFields {
  return { kind, ...PROBLEM_KINDS[kind], detail, ...more };
}

/** An error that is already an answer to the caller. */
export class HttpProblem extends Error {
  readonly problem: ProblemFields;
  /** Why, for the operator's log line only (e.g. why a signature was refused). */
  readonly note: string | undefined;

  constructor(problem: ProblemFields, options?: ErrorOptions & { note?: string }) {
    super(problem.detail, options);
    this.name = 'HttpProblem';
    this.problem = problem;
    this.note = options?.note;
  }

  get status(): number {
    return this.problem.status;
  }
}

/** A problem of `kind`, as an error to throw. */
export function problem(
  kind: ProblemKind,
  detail: string,
  more: Omit<ProblemFields, 'kind' | 'status' | 'title' | 'detail'> = {},
  options?: ErrorOptions & { note?: string },
): HttpProblem {
  return new HttpProblem(problemFields(kind, detail, more), options);
}

export const unauthorized = (detail: string, note?: string) =>
  problem(
    'unauthorized',
    detail,
    { headers: { 'WWW-Authenticate': 'Bearer realm="ngrok-event-streams"' } },
    { note },
  );

export const forbidden = (scope: string) =>
  problem('forbidden', `This token lacks the '${scope}' scope that this route needs.`, {
    headers: {
      'WWW-Authenticate': `Bearer realm="ngrok-event-streams", error="insufficient_scope", scope="${scope}"`,
    },
  });

export const validationFailed = (errors: FieldError[]) =>
  problem(
    'validation-failed',
    errors.map((error) => `${error.field} ${error.message}`).join('; '),
    { errors },
  );

export const payloadTooLarge = (maxBytes: number) =>
  problem('payload-too-large', `The body may be at most ${maxBytes} bytes.`);

/** A body of another type than the route takes, e.g. "JSON in UTF-8, with Content-Type: application/json". */
export const unsupportedMediaType = (expected: string) =>
  problem('unsupported-media-type', `Send the body as ${expected}.`);

/** The same Idempotency-Key came with another body (IETF draft, Stripe: 422). */
export const idempotencyKeyReused = () =>
  problem(
    'idempotency-key-reused',
    'This Idempotency-Key was first sent with a different body. Send a new key for a new request.',
  );

/** The first request with this key may still be acting: try again after `Retry-After`. */
export const idempotencyKeyInFlight = (retryAfterSeconds: number) =>
  problem(
    'idempotency-key-in-flight',
    `A request with this Idempotency-Key is still being processed, or its outcome is not known yet. Try again in ${retryAfterSeconds} seconds: the retry answers as the first request did.`,
    { headers: { 'Retry-After': String(retryAfterSeconds) } },
  );

/** The key could not be checked or claimed: nothing was done. */
export const idempotencyUnavailable = (options?: ErrorOptions) =>
  problem(
    'idempotency-unavailable',
    'The Idempotency-Key could not be checked, so nothing was done. Try again.',
    { headers: { 'Retry-After': '1' } },
    options,
  );

/**
 * ngrok's message for a refused request, as far as it is safe to pass on: upstream URLs are
 * removed; a message that holds a credential (the service's key, a token, a long opaque string)
 * is replaced by a generic one with the error code.
 */
const URL_IN_TEXT = /\b(?:https?|wss?):\/\/[^\s'"<>]+/gi;

export function safeNgrokMessage(message: string, errorCode: string | undefined): string {
  const generic = `ngrok refused the request${errorCode ? ` (${errorCode})` : ''}.`;
  const printable = message.replace(/\p{Cc}+/gu, ' ').trim();
  if (printable === '' || printable.length > 500) return generic;
  if (redact(printable) !== printable) return generic;
  // A URL ends where the message's own words would: at a space, a quote or a bracket (what
  // follows it, e.g. a token in echoed JSON, is looked at too).
  const withoutUrls = printable.replace(URL_IN_TEXT, 'the ngrok API');
  if (/[A-Za-z0-9+/_=-]{32,}/.test(withoutUrls)) return generic;
  return withoutUrls;
}

/** Middy's own HTTP errors (`@middy/http-json-body-parser`): 422 and forbidden keys. */
function fromMiddyError(error: {
  statusCode: number;
  cause?: unknown;
  message?: string;
}): ProblemFields | undefined {
  if (error.statusCode === 422 && error.message === 'Forbidden key in JSON body') {
    // Valid JSON, but a key that could change an object's prototype: refused by name.
    const key = (error.cause as { data?: unknown } | undefined)?.data;
    const field = `body.${typeof key === 'string' ? key : '__proto__'}`;
    return problemFields('validation-failed', `${field} is not allowed`, {
      errors: [{ field, message: 'is not allowed' }],
    });
  }
  if (error.statusCode === 422) {
    const reason = (error.cause as { message?: unknown } | undefined)?.message;
    return problemFields(
      'malformed-json',
      typeof reason === 'string'
        ? `The body is not valid JSON: ${reason}`
        : 'The body is not valid JSON.',
    );
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
    return problemFields(
      'upstream-timeout',
      'The ngrok API did not answer before the deadline. Try again.',
    );
  }
  if (error instanceof NgrokInvalidIdError) {
    return problemFields('validation-failed', 'The id is not a valid ngrok id.');
  }
  if (!(error instanceof NgrokApiError)) {
    return problemFields(
      'upstream-error',
      'The ngrok API could not be reached or gave an answer that cannot be read. Try again.',
    );
  }
  const upstream = { error_code: error.errorCode, operation_id: error.operationId };
  switch (error.status) {
    case 400:
      return problemFields(
        'upstream-validation-failed',
        safeNgrokMessage(error.ngrokMessage, error.errorCode),
        upstream,
      );
    case 404:
      return problemFields('not-found', 'No Event Stream has this id.', upstream);
    case 429: {
      const retryAfter = error.retryAfterSeconds ?? 60;
      return problemFields(
        'rate-limited',
        `The ngrok API rate limit was reached. Try again in ${retryAfter} seconds.`,
        { headers: { 'Retry-After': String(retryAfter) }, ...upstream },
      );
    }
    case 401:
    case 403:
      return problemFields(
        'upstream-rejected-key',
        "ngrok refused this service's API key. The operator must update the key in the service's secret.",
        upstream,
      );
    default:
      return problemFields(
        'upstream-error',
        `The ngrok API answered HTTP ${error.status}. Try again.`,
        upstream,
      );
  }
}

const INTERNAL = problemFields('internal-error', 'The service failed. Its logs say why.');

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
  }
  return INTERNAL;
}

/** The answer for a problem; `instance` is the request id, as in the `x-request-id` header. */
export function problemResponse(
  problem: ProblemFields,
  instance?: string,
): APIGatewayProxyStructuredResultV2 {
  const { headers, kind, status, title, detail, extensions, ...extra } = problem;
  const body: Record<string, unknown> = {
    type: `${PROBLEM_TYPE_PREFIX}${kind}`,
    title,
    status,
    detail,
  };
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
