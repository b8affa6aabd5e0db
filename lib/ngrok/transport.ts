/**
 * One HTTP exchange with the ngrok API, with a deadline and retries. undici with one keep-alive
 * dispatcher per container: a warm Lambda reuses its connection to ngrok across invocations.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type * as z from 'zod/mini';
import { type Dispatcher, request, sharedAgent } from '../http-client/undici.ts';
import {
  NgrokApiError,
  NgrokInvalidResponseError,
  NgrokNetworkError,
  NgrokTimeoutError,
} from './errors.ts';
import { ApiErrorBody } from './schemas.ts';

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** The first backoff's upper bound; it doubles each retry (full jitter). */
  baseDelayMs: number;
  maxDelayMs: number;
}

/**
 * A retry is started only with at least this long left for its answer: one that would be cut
 * short by the deadline answers nothing, and turns ngrok's real error into a timeout.
 */
export const MIN_ATTEMPT_MS = 250;

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 4,
  baseDelayMs: 200,
  maxDelayMs: 5000,
};

export interface TransportConfig {
  apiKey: string;
  baseUrl: string;
  retry: RetryPolicy;
  /** The deadline of a call that names none. */
  defaultTimeoutMs: number;
  userAgent: string;
  dispatcher?: Dispatcher;
}

export interface CallOptions {
  /**
   * When the call must be over, in ms since the epoch (`Date.now()` time); retries and waits
   * included. In a Lambda: `Date.now() + context.getRemainingTimeInMillis() - margin`.
   */
  deadline?: number;
  /** Told once when the call is over, whatever its outcome: for request logs and metrics. */
  onCallEnd?: (report: CallReport) => void;
}

/** What one call did: its attempts, and how the last one ended. Holds no key and no URL. */
export interface CallReport {
  /** e.g. `event_streams.get`. */
  operation: string;
  /** The status of ngrok's last answer; absent when no answer came. */
  status?: number;
  /** Requests sent in all, retries included. */
  attempts: number;
  /** ngrok's id of its last answer (`ngrok-operation-id`), for a support ticket. */
  operation_id?: string;
  duration_ms: number;
  /** The error's class name, when the call failed. */
  error?: string;
}

export interface Exchange<T> {
  /** Names the call in errors, e.g. `event_streams.get`. */
  operation: string;
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string | undefined>;
  body?: Record<string, unknown>;
  /** The schema of a success body; none for 204. */
  response?: z.ZodMiniType<T>;
  /** The only success status that means done (a DELETE: 204); another 2xx is not trusted. */
  expectStatus?: number;
}

/** Connection failures where the request certainly never reached the server. */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

function errorCode(error: unknown): string | undefined {
  const { code, cause } = (error ?? {}) as { code?: unknown; cause?: { code?: unknown } };
  if (typeof code === 'string') return code;
  return typeof cause?.code === 'string' ? cause.code : undefined;
}

/** `Retry-After` as seconds (delta-seconds or an HTTP date), or undefined. */
export function parseRetryAfter(
  header: string | string[] | undefined,
  now = Date.now(),
): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value);
  // An HTTP date names its weekday and month; Date.parse would also take "-5" as a year.
  if (!/[a-z]/i.test(value)) return undefined;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - now) / 1000));
}

function headerValue(header: string | string[] | undefined): string | undefined {
  return Array.isArray(header) ? header[0] : header;
}

/** Full-jitter exponential backoff (AWS Architecture Blog, "Exponential Backoff And Jitter"). */
function backoffMs(policy: RetryPolicy, retry: number): number {
  return Math.random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
}

type Outcome =
  | {
      kind: 'answer';
      status: number;
      headers: Record<string, string | string[] | undefined>;
      text: string;
    }
  | { kind: 'network'; error: NgrokNetworkError };

/**
 * Whether a failed attempt may be tried again. GET, PATCH (it sets fields to given values) and
 * DELETE are idempotent; a POST is retried only when ngrok certainly did not act on it.
 */
function isRetryable(method: Exchange<unknown>['method'], outcome: Outcome): boolean {
  if (outcome.kind === 'network') return method !== 'POST' || !outcome.error.requestSent;
  if (outcome.status === 429) return true;
  return method !== 'POST' && outcome.status >= 500;
}

function apiError(operation: string, outcome: Extract<Outcome, { kind: 'answer' }>): NgrokApiError {
  let parsed: ApiErrorBody | undefined;
  try {
    const result = ApiErrorBody.safeParse(JSON.parse(outcome.text));
    if (result.success) parsed = result.data;
  } catch {
    // Not JSON (a proxy's HTML page, say): the status is all there is.
  }
  const detailsOperationId = parsed?.details?.operation_id;
  return new NgrokApiError(operation, {
    status: outcome.status,
    errorCode: parsed?.error_code,
    ngrokMessage: parsed?.msg ?? `HTTP ${outcome.status} without an ngrok error body`,
    operationId:
      typeof detailsOperationId === 'string'
        ? detailsOperationId
        : headerValue(outcome.headers['ngrok-operation-id']),
    retryAfterSeconds: parseRetryAfter(outcome.headers['retry-after']),
  });
}

/** What every call of one configuration shares: worked out once, not per call. */
interface Prepared {
  origin: string;
  /** The base URL's path, without its trailing slash (`''` for api.ngrok.com). */
  basePath: string;
  headers: Record<string, string>;
  /** The same, with `content-type: application/json`. */
  jsonHeaders: Record<string, string>;
}

const prepared = new WeakMap<TransportConfig, Prepared>();

function prepare(config: TransportConfig): Prepared {
  let found = prepared.get(config);
  if (found === undefined) {
    const base = new URL(config.baseUrl);
    const headers = {
      authorization: `Bearer ${config.apiKey}`,
      'ngrok-version': '2',
      accept: 'application/json',
      'user-agent': config.userAgent,
    };
    found = {
      origin: base.origin,
      basePath: base.pathname.replace(/\/+$/, ''),
      headers,
      jsonHeaders: { ...headers, 'content-type': 'application/json' },
    };
    prepared.set(config, found);
  }
  return found;
}

/** The request target: the base URL's path, the call's path and its query, if any. */
function requestPath(basePath: string, call: Exchange<unknown>): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(call.query ?? {})) {
    if (value !== undefined) query.set(key, value);
  }
  const search = query.size > 0 ? `?${query}` : '';
  return basePath + call.path + search;
}

/**
 * Performs one call: sends, retries what may be retried, and parses the answer. Never outlives
 * `options.deadline`: a retry that would not have MIN_ATTEMPT_MS left after its wait is not
 * started, the last error is thrown instead.
 */
export async function exchange<T>(
  config: TransportConfig,
  call: Exchange<T>,
  options: CallOptions = {},
): Promise<T | undefined> {
  const started = performance.now();
  const report: CallReport = { operation: call.operation, attempts: 0, duration_ms: 0 };
  try {
    return await attempts(config, call, options, report);
  } catch (error) {
    report.error = (error as Error).name;
    throw error;
  } finally {
    report.duration_ms = Math.round(performance.now() - started);
    options.onCallEnd?.(report);
  }
}

async function attempts<T>(
  config: TransportConfig,
  call: Exchange<T>,
  options: CallOptions,
  report: CallReport,
): Promise<T | undefined> {
  const deadline = options.deadline ?? Date.now() + config.defaultTimeoutMs;
  if (deadline - Date.now() <= 0) throw new NgrokTimeoutError(call.operation);
  const signal = AbortSignal.timeout(deadline - Date.now());
  const { origin, basePath, headers: plainHeaders, jsonHeaders } = prepare(config);
  const path = requestPath(basePath, call);
  const body = call.body === undefined ? undefined : JSON.stringify(call.body);
  const headers = body === undefined ? plainHeaders : jsonHeaders;
  const dispatcher = config.dispatcher ?? sharedAgent();
  let sentWithUnknownOutcome = false;

  for (let attempt = 1; ; attempt++) {
    let outcome: Outcome;
    report.attempts = attempt;
    report.status = undefined;
    report.operation_id = undefined;
    try {
      const response = await request(dispatcher, {
        origin,
        path,
        method: call.method,
        headers,
        body,
        signal,
      });
      outcome = {
        kind: 'answer',
        status: response.statusCode,
        headers: response.headers,
        text: await response.body.text(),
      };
      report.status = response.statusCode;
      report.operation_id = headerValue(response.headers['ngrok-operation-id']);
    } catch (error) {
      if (signal.aborted) throw new NgrokTimeoutError(call.operation, { cause: error });
      const code = errorCode(error);
      outcome = {
        kind: 'network',
        error: new NgrokNetworkError(call.operation, code, !NOT_SENT_CODES.has(code ?? ''), {
          cause: error,
        }),
      };
    }

    if (outcome.kind === 'answer' && outcome.status < 300) {
      if (call.expectStatus !== undefined && outcome.status !== call.expectStatus) {
        throw new NgrokInvalidResponseError(
          call.operation,
          outcome.status,
          `a status other than ${call.expectStatus}, which alone means it was done`,
        );
      }
      return parseSuccess(call, outcome.status, outcome.text);
    }
    // A DELETE that may have been carried out before its answer was lost finds nothing the
    // second time: the stream is gone, which is what the caller asked for.
    if (
      call.method === 'DELETE' &&
      sentWithUnknownOutcome &&
      outcome.kind === 'answer' &&
      outcome.status === 404
    ) {
      return undefined;
    }
    const error = outcome.kind === 'network' ? outcome.error : apiError(call.operation, outcome);
    if (!isRetryable(call.method, outcome) || attempt >= config.retry.maxAttempts) throw error;
    if (outcome.kind === 'network' ? outcome.error.requestSent : outcome.status >= 500) {
      sentWithUnknownOutcome = true;
    }

    const retryAfter = error instanceof NgrokApiError ? error.retryAfterSeconds : undefined;
    const delay = retryAfter === undefined ? backoffMs(config.retry, attempt) : retryAfter * 1000;
    if (Date.now() + delay + MIN_ATTEMPT_MS >= deadline) throw error;
    try {
      await sleep(delay, undefined, { signal });
    } catch {
      throw error;
    }
  }
}

function parseSuccess<T>(call: Exchange<T>, status: number, text: string): T | undefined {
  if (call.response === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new NgrokInvalidResponseError(call.operation, status, 'a body that is not JSON', {
      cause,
    });
  }
  const result = call.response.safeParse(json);
  if (!result.success) {
    const where = result.error.issues.map((issue) => issue.path.join('.') || '(root)').join(', ');
    throw new NgrokInvalidResponseError(call.operation, status, `an unexpected body (at ${where})`);
  }
  return result.data;
}
