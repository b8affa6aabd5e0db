/**
 * The `Idempotency-Key` request header and what a request with one is: plain functions, tested
 * without middy or DynamoDB.
 *
 * The header, as the IETF draft "The Idempotency-Key HTTP Header Field" writes it (a Structured
 * Field string: `Idempotency-Key: "8e03978e-…"`) or as Stripe's clients send it (the bare
 * value): 1 to 255 characters of visible ASCII (`!` to `~`), the quotes not counted. Both
 * spellings of the same value are the same key. A bare key has no `,` or `"`: API Gateway joins
 * two headers of one name with a comma, and two keys are not one.
 */
import { hash } from 'node:crypto';
import { validationFailed } from '../http/problem.ts';

export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
export const MAX_KEY_LENGTH = 255;
const VISIBLE_ASCII = /^[\x21-\x7e]+$/;

/** The key of a request, or undefined when it sent none; a malformed one is a 400. */
export function parseIdempotencyKey(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const field = `header.${IDEMPOTENCY_KEY_HEADER}`;
  let key = value.trim();
  const quoted = /^"((?:[^"\\]|\\["\\])*)"$/.exec(key);
  if (quoted) key = (quoted[1] ?? '').replace(/\\(["\\])/g, '$1');
  // Unquoted, a comma or a quote means two keys (API Gateway joins repeated headers with `,`).
  const twoKeys = !quoted && /[,"]/.test(key);
  if (twoKeys || key.length === 0 || key.length > MAX_KEY_LENGTH || !VISIBLE_ASCII.test(key)) {
    throw validationFailed([
      {
        field,
        message: `must be one key of 1 to ${MAX_KEY_LENGTH} characters of visible ASCII (no comma or quote unless in the draft's quoted form), e.g. a UUID`,
      },
    ]);
  }
  return key;
}

/** JSON with every object's keys sorted: the same value always gives the same text. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([name, item]) => `${JSON.stringify(name)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** What makes two requests "the same request": their validated bodies, however spelled. */
export function fingerprintOf(body: unknown): string {
  return hash('sha256', canonicalJson(body ?? null), 'base64url');
}

/** The stored record of a key. Times are milliseconds since the epoch unless said otherwise. */
export interface KeyRecord {
  /** `[route, caller, key]`: keys are the caller's own, per route. */
  id: string;
  fingerprint: string;
  /**
   * `in_progress`: an attempt is running. `unknown`: its request reached ngrok but the answer was
   * lost (a timeout, a dropped connection). `completed`: `response` is the answer.
   */
  state: 'in_progress' | 'unknown' | 'completed';
  /** Which attempt holds the record: each attempt writes only while it still holds it. */
  attempt: string;
  /** When the first attempt began: a lost create's stream is one made after this. */
  startedAt: number;
  /** Until when an attempt may still be acting (or ngrok on its behalf): retries wait. */
  inFlightUntil: number;
  /** Seconds since the epoch: the record is forgotten then (DynamoDB TTL; reads ignore it). */
  expiresAt: number;
  response?: StoredResponse;
}

export interface StoredResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

export type Decision =
  | { kind: 'replay'; response: StoredResponse }
  | { kind: 'reused' }
  | { kind: 'wait'; retryAfterSeconds: number }
  /** The attempt that held the key is over without an answer: look for what it did, then go on. */
  | { kind: 'recover' };

/**
 * What a request does about a key another request already holds. `settleMs`: how long after an
 * attempt's deadline (or the loss of its answer) ngrok may still act on it.
 */
export function decide(
  record: KeyRecord,
  fingerprint: string,
  now: number,
  settleMs: number,
): Decision {
  if (record.fingerprint !== fingerprint) return { kind: 'reused' };
  if (record.state === 'completed' && record.response) {
    return { kind: 'replay', response: record.response };
  }
  if (now < record.inFlightUntil) {
    // A running attempt usually ends within a second; one past its deadline (its function died)
    // or whose answer was lost is waited out.
    const running = record.state === 'in_progress' && now < record.inFlightUntil - settleMs;
    const seconds = running ? 1 : (record.inFlightUntil - now) / 1000;
    return { kind: 'wait', retryAfterSeconds: Math.max(1, Math.ceil(seconds)) };
  }
  return { kind: 'recover' };
}

/** The record's id: the route, the caller and the key, as a JSON list (never ambiguous). */
export function recordId(route: string, caller: string, key: string): string {
  return JSON.stringify([route, caller, key]);
}

/** The id under which what a key's request made is marked as that key's: never a key's id. */
export function madeId(route: string, resourceId: string): string {
  return JSON.stringify([route, resourceId]);
}
